import { OctopusEmulator } from "../../emulator/server";
import { emulatorEnv, Engine } from "../../harness/engine";

// Runs of `pulumi` at moved times, through the real provider host against the emulator: each run
// is a fresh host (as each run of the engine is), started at the test's "now" via
// OCTOPUS_APIKEY_FAKE_NOW, while the emulator's clock is moved to the same instant.

export const DAY = 86_400_000;
export const T0 = Date.parse("2027-01-01T00:00:00Z");

type Stored = Engine["state"] extends Map<string, infer R> ? R : never;

export class ClockRuns {
  /** The state the runs leave, as the engine keeps it between runs. */
  readonly stored = new Map<string, Stored>();

  constructor(readonly emulator: OctopusEmulator) {}

  env(at: number, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return emulatorEnv(this.emulator, {
      OCTOPUS_APIKEY_FAKE_NOW: new Date(at).toISOString(),
      ...extra,
    });
  }

  /** One `pulumi` run at time `at`: a fresh host that sees the state the previous runs left. */
  async run<T>(at: number, body: (engine: Engine) => Promise<T>): Promise<T> {
    this.emulator.setNow(new Date(at));
    const engine = await Engine.start({ env: this.env(at) });
    for (const [name, resource] of this.stored) engine.state.set(name, resource);
    try {
      return await body(engine);
    } finally {
      this.stored.clear();
      for (const [name, resource] of engine.state) this.stored.set(name, resource);
      await engine.close();
    }
  }

  /** Ids of the live keys with `purpose`, sorted. */
  live(purpose: string): string[] {
    return this.emulator.liveKeyIds(purpose);
  }
}

/** The fake clocks run on from their start, so instants are compared to within a few seconds. */
export function expectNear(value: unknown, expected: number): void {
  expect(typeof value).toBe("string");
  expect(Math.abs(Date.parse(value as string) - expected)).toBeLessThan(10_000);
}
