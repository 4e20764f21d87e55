/**
 * The processes the bench drives as the engine does, behind one interface so that every variant
 * is run and measured by the same code (host-run.ts):
 * - a dynamic provider host (`@pulumi/pulumi/cmd/dynamic-provider`) given a provider text: ours
 *   and the floors (harness/engine.ts);
 * - the resource plugin `pulumi-resource-octopusapikey`, launched as the engine launches it
 *   (harness/plugin.ts, harness/plugin-engine.ts).
 * Both are configured from the environment only (the emulator's address and administrator key),
 * both get each key's Check then Create, then its Delete, and `pid` is the process that serves
 * those calls, whose CPU the bench reads from /proc.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import type { OctopusEmulator } from "../../emulator/server";
import { emulatorEnv, Engine } from "../../harness/engine";
import { resourceUrn } from "../../harness/host";
import { launchPlugin } from "../../harness/plugin";
import { PluginEngine } from "../../harness/plugin-engine";

type Props = Record<string, unknown>;

/** One started, configured process, with its own engine state. */
export interface Driver {
  readonly pid: number;
  /** Check then Create of a new key named `name`. */
  up(name: string, program: Props): Promise<unknown>;
  /** Delete of the key named `name`. */
  destroy(name: string): Promise<void>;
  /** Runs one probe action (providers/probe.ts) inside the process; needs `probe` at start. */
  probe(inputs: Props): Promise<Props>;
  close(): Promise<void>;
}

export interface StartOptions {
  /** What the sleep floor waits per call (BENCH_SLEEP_MS); the others ignore it. */
  sleepMs?: number;
  /** Make {@link Driver.probe} available: only for the runs that read the heap or profile. */
  probe?: boolean;
}

/** A way of starting a {@link Driver}: returns once the process is ready and configured. */
export type Front = (emulator: OctopusEmulator, options: StartOptions) => Promise<Driver>;

/** A dynamic provider host running `text`; the probe is `probeText`, one more provider in it. */
export function dynamicHost(text: string, probeText: string): Front {
  return async (emulator, { sleepMs = 0 }) => {
    const engine = await Engine.start({
      env: emulatorEnv(emulator, { BENCH_SLEEP_MS: String(sleepMs) }),
      providerText: text,
    });
    let probes = 0;
    return {
      pid: engine.host.pid,
      up: (name, program) => engine.up(name, program),
      destroy: (name) => engine.destroy(name),
      async probe(inputs) {
        const urn = resourceUrn(`probe-${++probes}`, "pulumi-nodejs:dynamic/bench:probe");
        return (await engine.host.create(urn, { __provider: probeText, ...inputs })).properties;
      },
      close: () => engine.close(),
    };
  };
}

/** The preload that serves the probe inside the plugin (probe-preload.ts, compiled next to this). */
const PROBE_PRELOAD = path.join(__dirname, "probe-preload.js");

/**
 * The built resource plugin, started as the engine starts it (node, its `bin`, the engine's
 * address; stdin a pipe) and configured with no arguments, so that it reads the environment as
 * the dynamic host does. With `probe`, NODE_OPTIONS also preloads {@link PROBE_PRELOAD}.
 */
export const resourcePlugin: Front = async (emulator, { sleepMs = 0, probe = false }) => {
  const extra: Record<string, string> = { BENCH_SLEEP_MS: String(sleepMs) };
  let dir: string | undefined;
  if (probe) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-probe-"));
    extra.BENCH_PROBE_SOCKET = path.join(dir, "probe.sock");
    extra.NODE_OPTIONS = [process.env.NODE_OPTIONS, `--require ${JSON.stringify(PROBE_PRELOAD)}`]
      .filter(Boolean)
      .join(" ");
  }
  const remove = () => dir && fs.rmSync(dir, { recursive: true, force: true });
  let plugin: Awaited<ReturnType<typeof launchPlugin>> | undefined;
  try {
    plugin = await launchPlugin({ env: emulatorEnv(emulator, extra) });
    await plugin.configure({});
  } catch (error) {
    await plugin?.close();
    remove();
    throw error;
  }
  const engine = new PluginEngine(plugin);
  const socket = extra.BENCH_PROBE_SOCKET;
  return {
    pid: plugin.pid,
    up: (name, program) => engine.up(name, program),
    destroy: (name) => engine.destroy(name),
    probe(inputs) {
      if (!socket) throw new Error("the plugin was started without the probe");
      return askProbe(socket, inputs);
    },
    async close() {
      await plugin.close();
      remove();
    },
  };
};

/** One probe action through the preload's socket. */
function askProbe(socketPath: string, inputs: Props): Promise<Props> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { socketPath, path: "/", method: "POST", agent: false },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () =>
          response.statusCode === 200
            ? resolve(JSON.parse(body) as Props)
            : reject(new Error(`the plugin's probe failed: ${body}`)),
        );
      },
    );
    request.on("error", reject);
    request.end(JSON.stringify(inputs));
  });
}
