import { OctopusEmulator, PROFILES } from "../emulator/server";
import { emulatorEnv, Engine } from "../harness/engine";
import { HostCallError } from "../harness/host";

// Rotation through the real provider host against the emulator, with a moved clock: each
// `pulumi up` is a fresh host (as each run of the engine is), started at the test's "now" via
// OCTOPUS_APIKEY_FAKE_NOW, while the emulator's clock is moved to the same instant. The suite
// runs against each Octopus version the emulator plays (emulator/README.md).

const DAY = 86_400_000;
const T0 = Date.parse("2027-01-01T00:00:00Z");
let emulator: OctopusEmulator;
const stored = new Map<string, Engine["state"] extends Map<string, infer R> ? R : never>();

function env(at: number, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return emulatorEnv(emulator, { OCTOPUS_APIKEY_FAKE_NOW: new Date(at).toISOString(), ...extra });
}

/** One `pulumi` run at time `at`: a fresh host that sees the state the previous runs left. */
async function run<T>(at: number, body: (engine: Engine) => Promise<T>): Promise<T> {
  emulator.setNow(new Date(at));
  const engine = await Engine.start({ env: env(at) });
  for (const [name, resource] of stored) engine.state.set(name, resource);
  try {
    return await body(engine);
  } finally {
    stored.clear();
    for (const [name, resource] of engine.state) stored.set(name, resource);
    await engine.close();
  }
}

/** The fake clocks run on from their start, so instants are compared to within a few seconds. */
function expectNear(value: unknown, expected: number): void {
  expect(typeof value).toBe("string");
  expect(Math.abs(Date.parse(value as string) - expected)).toBeLessThan(10_000);
}

function live(purpose: string): string[] {
  return emulator
    .liveKeys()
    .filter((k) => k.Purpose === purpose)
    .map((k) => k.Id);
}

const rotating = (purpose: string) => ({
  purpose,
  username: "ci-bot",
  expiresIn: "90d",
  rotateBefore: "30d",
});

describe.each(PROFILES)("on Octopus %s", (profile) => {
  beforeAll(async () => {
    stored.clear();
    emulator = await OctopusEmulator.start({ profile });
  });
  afterAll(() => emulator?.close());

  test("no diff before the window, replacement inside it, new key first, one live key after", async () => {
    const program = rotating("rotates");
    await run(T0, (e) => e.up("key", program));
    const first = stored.get("key")!;
    expectNear(first.outputs.rotateAt, T0 + 60 * DAY);

    expect(await run(T0 + 59 * DAY, (e) => e.up("key", program))).toEqual({ step: "same" });

    await run(T0 + 61 * DAY, async (engine) => {
      const old = engine.state.get("key")!;
      const checked = await engine.host.check(engine.urn("key"), old.inputs, {
        ...program,
        __provider: engine.providerText,
      });
      const diff = await engine.host.diff(old.id, engine.urn("key"), old.outputs, checked.inputs);
      expect(diff).toEqual({
        changes: "some",
        replaces: ["rotateBefore"],
        deleteBeforeReplace: false,
      });
      // The engine creates the replacement, updates consumers, and only then deletes the old key.
      const created = await engine.host.create(engine.urn("key"), checked.inputs);
      expect(live("rotates").sort()).toEqual([old.id, created.id].sort());
      await engine.host.delete(old.id, engine.urn("key"), old.outputs);
      engine.state.set("key", {
        id: created.id,
        inputs: checked.inputs,
        outputs: created.properties,
      });
    });
    const second = stored.get("key")!;
    expect(live("rotates")).toEqual([second.id]);
    expect(second.outputs.apiKey).not.toBe(first.outputs.apiKey);
    // expiresIn is resolved again for the new key.
    expectNear(second.outputs.expires, T0 + 61 * DAY + 90 * DAY);

    expect(await run(T0 + 62 * DAY, (e) => e.up("key", program))).toEqual({ step: "same" });
    await run(T0 + 62 * DAY, (e) => e.destroy("key"));
    expect(live("rotates")).toEqual([]);
  });

  test("an expired key is reported by refresh and replaced by the next up", async () => {
    const program = rotating("expires");
    await run(T0, (e) => e.up("old", program));
    await run(T0 + 100 * DAY, async (engine) => {
      expect(await engine.refresh("old")).toBe("kept");
      expect(engine.state.get("old")!.outputs.expired).toBe(true);
      expect(await engine.up("old", program)).toEqual({
        step: "replace",
        replaces: ["rotateBefore"],
      });
      expect(engine.state.get("old")!.outputs.expired).toBe(false);
      await engine.destroy("old");
    });
    expect(live("expires")).toEqual([]);
  });

  test("time passing never changes a key with expiresIn and no rotateBefore", async () => {
    const program = { purpose: "steady", expiresIn: "90d" };
    await run(T0, (e) => e.up("steady", program));
    expect(await run(T0 + 80 * DAY, (e) => e.up("steady", program))).toEqual({ step: "same" });
    await run(T0 + 80 * DAY, (e) => e.destroy("steady"));
  });

  test("a change of rotationTriggers replaces the key", async () => {
    const program = { ...rotating("triggered"), rotationTriggers: { generation: "1" } };
    await run(T0, (e) => e.up("t", program));
    const result = await run(T0 + DAY, (e) =>
      e.up("t", { ...program, rotationTriggers: { generation: "2" } }),
    );
    expect(result).toEqual({ step: "replace", replaces: ["rotationTriggers"] });
    expect(live("triggered")).toEqual([stored.get("t")!.id]);
    await run(T0 + DAY, (e) => e.destroy("t"));
  });

  test("a rotateBefore change outside the window updates in place; inside it replaces", async () => {
    const program = rotating("window");
    await run(T0, (e) => e.up("w", program));
    const id = stored.get("w")!.id;
    const outside = await run(T0 + 10 * DAY, (e) => e.up("w", { ...program, rotateBefore: "45d" }));
    expect(outside).toEqual({ step: "update" });
    expect(stored.get("w")!.id).toBe(id);
    expectNear(stored.get("w")!.outputs.rotateAt, T0 + 45 * DAY);
    const inside = await run(T0 + 50 * DAY, (e) => e.up("w", { ...program, rotateBefore: "60d" }));
    expect(inside.step).toBe("replace");
    await run(T0 + 50 * DAY, (e) => e.destroy("w"));
    expect(live("window")).toEqual([]);
  });

  test("with the server's default expiry, rotateBefore counts back from it (none before 2025.4)", async () => {
    const program = { purpose: "server default", username: "ci-bot", rotateBefore: "30d" };
    await run(T0, (e) => e.up("d", program));
    const outputs = stored.get("d")!.outputs;
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

  describe("an expiry the server refuses says which rule and what to change", () => {
    async function refusal(
      program: Record<string, unknown>,
      extraEnv: Record<string, string> = {},
    ) {
      emulator.setNow(new Date(T0));
      const engine = await Engine.start({ env: env(T0, extraEnv) });
      try {
        return (await engine.up("refused", program).then(
          () => undefined,
          (e: unknown) => e,
        )) as HostCallError;
      } finally {
        await engine.close();
      }
    }

    test("beyond the server's maximum (from 2025.4; older servers have none)", async () => {
      const error = await refusal({ purpose: "too long", expiresIn: "400d" });
      if (profile === "2025.3") {
        expect(error).toBeUndefined();
        const made = emulator.liveKeys().filter((k) => k.Purpose === "too long");
        expect(made).toHaveLength(1);
        expectNear(made[0].Expires, T0 + 400 * DAY);
        emulator.revokeKey(made[0].Id);
        return;
      }
      expect(error.message).toMatch(/400/);
      expect(error.message).toMatch(/beyond the server's maximum key lifetime/);
    });

    test("later than the key making the request", async () => {
      const shortLived = emulator.createKey(emulator.admin.id, {
        purpose: "short-lived admin key",
        expires: new Date(T0 + 10 * DAY),
      });
      const error = await refusal(
        { purpose: "outlives", expiresIn: "30d" },
        { OCTOPUS_API_KEY: shortLived.secret },
      );
      expect(error.message).toMatch(/cannot expire after the API key that creates it/);
      emulator.revokeKey(shortLived.id);
    });

    test("in the past by the server's clock", async () => {
      // This machine's clock is 10 days behind the server's.
      emulator.setNow(new Date(T0 + 10 * DAY));
      const engine = await Engine.start({ env: env(T0) });
      try {
        const error = (await engine
          .up("past", { purpose: "past", expiresAt: new Date(T0 + 5 * DAY).toISOString() })
          .catch((e: unknown) => e)) as Error;
        expect(error.message).toMatch(/not in the future by the server's clock/);
      } finally {
        await engine.close();
      }
    });
  });
});
