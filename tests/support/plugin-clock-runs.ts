import { OctopusEmulator } from "../../emulator/server";
import { hostEnv } from "../../harness/engine";
import { launchPlugin, type Plugin, secret } from "../../harness/plugin";
import { PluginEngine, type PluginResource } from "../../harness/plugin-engine";

// Runs of `pulumi` at moved times through the resource plugin, as ./clock-runs does through the
// dynamic provider host: each run is a fresh plugin, configured for the emulator, started at the
// test's "now" via OCTOPUS_APIKEY_FAKE_NOW, with the emulator's clock moved to the same instant.

export class PluginClockRuns {
  /** The state the runs leave, as the engine keeps it between runs. */
  readonly stored = new Map<string, PluginResource>();

  /** `engine`: the address passed to each plugin as the engine's (harness/engine-log). */
  constructor(
    readonly emulator: OctopusEmulator,
    readonly engine?: string,
  ) {}

  /** One `pulumi` run at time `at`: a fresh plugin that sees the state the previous runs left. */
  async run<T>(at: number, body: (engine: PluginEngine, plugin: Plugin) => Promise<T>): Promise<T> {
    this.emulator.setNow(new Date(at));
    const env = hostEnv({ OCTOPUS_APIKEY_FAKE_NOW: new Date(at).toISOString() });
    const plugin = await launchPlugin({ env, engine: this.engine });
    try {
      await plugin.configure({
        address: this.emulator.url,
        apiKey: secret(this.emulator.admin.apiKey),
      });
      const engine = new PluginEngine(plugin);
      for (const [name, resource] of this.stored) engine.state.set(name, resource);
      try {
        return await body(engine, plugin);
      } finally {
        this.stored.clear();
        for (const [name, resource] of engine.state) this.stored.set(name, resource);
      }
    } finally {
      await plugin.close();
    }
  }
}
