import { OctopusEmulator } from "../../emulator/server";
import { Engine, hostEnv } from "../../harness/engine";
import { HostileServer, startHostileServer } from "./hostile";

/**
 * The emulator behind a hostile server (./hostile) and a provider host whose Octopus is that
 * server, configured from the environment with the emulator's administrator key: what a file
 * that plays a broken or hostile Octopus to the whole provider starts once.
 */
export interface HostileStack {
  emulator: OctopusEmulator;
  hostile: HostileServer;
  engine: Engine;
  /** Closes the host, the hostile server and the emulator; returns what the host printed. */
  close(): Promise<string>;
}

export async function startHostileStack(): Promise<HostileStack> {
  const emulator = await OctopusEmulator.start();
  let hostile: HostileServer | undefined;
  try {
    hostile = await startHostileServer(emulator.url);
    const engine = await Engine.start({
      env: hostEnv({ OCTOPUS_URL: hostile.url, OCTOPUS_API_KEY: emulator.admin.apiKey }),
    });
    const server = hostile;
    return {
      emulator,
      hostile: server,
      engine,
      async close() {
        const output = engine.host.output();
        await engine.close();
        await server.close();
        await emulator.close();
        return output;
      },
    };
  } catch (error) {
    await hostile?.close();
    await emulator.close();
    throw error;
  }
}
