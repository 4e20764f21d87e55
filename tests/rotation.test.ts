import { DEFAULT_PROFILE } from "../emulator/profiles";
import { OctopusEmulator } from "../emulator/server";
import { Engine } from "../harness/engine";
import { HostCallError } from "../harness/host";
import { ClockRuns, DAY, expectNear, T0 } from "./support/clock-runs";

// Rotation through the real provider host against the emulator, with a moved clock (see
// ./support/clock-runs), on the default server profile; rotation-profiles.test.ts runs what
// differs between Octopus versions (the server's default and maximum expiry) on the others.

let runs: ClockRuns;
let emulator: OctopusEmulator;
const run = <T>(at: number, body: (engine: Engine) => Promise<T>) => runs.run(at, body);
const live = (purpose: string) => runs.live(purpose);
const env = (at: number, extra: Record<string, string> = {}) => runs.env(at, extra);

const rotating = (purpose: string) => ({
  purpose,
  username: "ci-bot",
  expiresIn: "90d",
  rotateBefore: "30d",
});

describe(`on Octopus ${DEFAULT_PROFILE}`, () => {
  beforeAll(async () => {
    emulator = await OctopusEmulator.start({ profile: DEFAULT_PROFILE });
    runs = new ClockRuns(emulator);
  });
  afterAll(() => emulator?.close());

  test("no diff before the window, replacement inside it, new key first, one live key after", async () => {
    const program = rotating("rotates");
    await run(T0, (e) => e.up("key", program));
    const first = runs.stored.get("key")!;
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
      expect(live("rotates")).toEqual([old.id, created.id].sort());
      await engine.host.delete(old.id, engine.urn("key"), old.outputs);
      engine.state.set("key", {
        id: created.id,
        inputs: checked.inputs,
        outputs: created.properties,
      });
    });
    const second = runs.stored.get("key")!;
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
    expect(live("triggered")).toEqual([runs.stored.get("t")!.id]);
    await run(T0 + DAY, (e) => e.destroy("t"));
  });

  test("a rotateBefore change outside the window updates in place; inside it replaces", async () => {
    const program = rotating("window");
    await run(T0, (e) => e.up("w", program));
    const id = runs.stored.get("w")!.id;
    const outside = await run(T0 + 10 * DAY, (e) => e.up("w", { ...program, rotateBefore: "45d" }));
    expect(outside).toEqual({ step: "update" });
    expect(runs.stored.get("w")!.id).toBe(id);
    expectNear(runs.stored.get("w")!.outputs.rotateAt, T0 + 45 * DAY);
    const inside = await run(T0 + 50 * DAY, (e) => e.up("w", { ...program, rotateBefore: "60d" }));
    expect(inside.step).toBe("replace");
    await run(T0 + 50 * DAY, (e) => e.destroy("w"));
    expect(live("window")).toEqual([]);
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
