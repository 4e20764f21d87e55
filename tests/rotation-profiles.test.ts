import { PROFILES } from "../emulator/profiles";
import { OctopusEmulator } from "../emulator/server";
import { Engine } from "../harness/engine";
import type { HostCallError } from "../harness/host";
import { ClockRuns, DAY, expectNear, T0 } from "./support/clock-runs";

// What rotation meets that differs between Octopus versions, on every server profile: the
// server's default expiry (none before 2025.4) and its maximum.

describe.each(PROFILES)("on Octopus %s", (profile) => {
  let emulator: OctopusEmulator;
  let runs: ClockRuns;
  const run = <T>(at: number, body: (engine: Engine) => Promise<T>) => runs.run(at, body);
  const live = (purpose: string) => runs.live(purpose);

  beforeAll(async () => {
    emulator = await OctopusEmulator.start({ profile });
    runs = new ClockRuns(emulator);
  });
  afterAll(() => emulator?.close());

  test("with the server's default expiry, rotateBefore counts back from it (none before 2025.4)", async () => {
    const program = { purpose: "server default", username: "ci-bot", rotateBefore: "30d" };
    await run(T0, (e) => e.up("d", program));
    const outputs = runs.stored.get("d")!.outputs;
    if (profile === "2025.3") {
      // Keys made without an expiry never expire there, so time never rotates them.
      expect(outputs).toMatchObject({ expires: null, rotateAt: null });
      expect(await run(T0 + 1000 * DAY, (e) => e.up("d", program))).toEqual({ step: "same" });
    } else {
      expectNear(outputs.expires, T0 + 180 * DAY);
      expectNear(outputs.rotateAt, T0 + 150 * DAY);
      expect(await run(T0 + 149 * DAY, (e) => e.up("d", program))).toEqual({ step: "same" });
      expect((await run(T0 + 151 * DAY, (e) => e.up("d", program))).step).toBe("replace");
    }
    await run(T0 + 151 * DAY, (e) => e.destroy("d"));
    expect(live("server default")).toEqual([]);
  });

  test("an expiry beyond the server's maximum fails at preview, or with advice where the server hides its policy (from 2025.4; older servers have none)", async () => {
    const attempt = async (server: OctopusEmulator) => {
      server.setNow(new Date(T0));
      const engine = await Engine.start({ env: new ClockRuns(server).env(T0) });
      return (await engine
        .up("refused", { purpose: "too long", expiresIn: "400d" })
        .then(
          () => undefined,
          (e: unknown) => e,
        )
        .finally(() => engine.close())) as HostCallError | Error | undefined;
    };
    const error = await attempt(emulator);
    if (profile === "2025.3") {
      expect(error).toBeUndefined();
      const made = emulator.liveKeys().filter((k) => k.Purpose === "too long");
      expect(made).toHaveLength(1);
      expectNear(made[0].Expires, T0 + 400 * DAY);
      emulator.revokeKey(made[0].Id);
      return;
    }
    // The server's policy (GET /api/authentication) names its maximum: check refuses, nothing made.
    expect(error?.message).toMatch(
      /expiresIn: 400d is beyond the maximum key lifetime of 366 days/,
    );
    expect(emulator.liveKeys().filter((k) => k.Purpose === "too long")).toEqual([]);
    // Without the policy, Octopus refuses the create itself, and the message says which rule.
    const hidden = await OctopusEmulator.start({ profile, authenticationEndpoint: "missing" });
    try {
      const refused = await attempt(hidden);
      expect(refused?.message).toMatch(/400/);
      expect(refused?.message).toMatch(/beyond the server's maximum key lifetime/);
    } finally {
      await hidden.close();
    }
  });
});
