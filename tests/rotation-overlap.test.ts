import { OctopusEmulator } from "../emulator/server";
import type { Engine } from "../harness/engine";
import { ClockRuns, DAY, T0 } from "./support/clock-runs";

// Overlap on rotation (`onRotation: "expire"`) through the real provider host, with moved clocks
// (./support/clock-runs): a key that rotation replaced stays live until its own expiry, the new
// key's outputs name it, the run says so; anything else still revokes at once.
// rotation-overlap-limits.test.ts has what the provider cannot tell, and the plugin's run.

let emulator: OctopusEmulator;
let runs: ClockRuns;
const run = <T>(at: number, body: (engine: Engine) => Promise<T>) => runs.run(at, body);
const live = (purpose: string) => runs.live(purpose);
const stored = (name: string) => runs.stored.get(name)!;

const overlapping = (purpose: string) => ({
  purpose,
  username: "ci-bot",
  expiresIn: "90d",
  rotateBefore: "30d",
  onRotation: "expire",
});

/** Whether `apiKey` still authenticates. */
async function works(apiKey: unknown): Promise<boolean> {
  const answer = await fetch(`${emulator.url}/api/users/me`, {
    headers: { "X-Octopus-ApiKey": apiKey as string },
  });
  await answer.arrayBuffer();
  return answer.status === 200;
}

beforeAll(async () => {
  emulator = await OctopusEmulator.start();
  runs = new ClockRuns(emulator);
});
afterAll(() => emulator?.close());

test("a rotation leaves the old key live until its expiry, names it in the outputs and says so", async () => {
  const program = overlapping("overlap");
  await run(T0, (e) => e.up("key", program));
  const first = stored("key");
  expect(first.outputs).toMatchObject({ retiringKeyId: null, retiringKeyExpires: null });

  const output = await run(T0 + 61 * DAY, async (e) => {
    expect(await e.up("key", program)).toEqual({ step: "replace", replaces: ["rotateBefore"] });
    return e.host.output();
  });
  const second = stored("key");
  expect(live("overlap")).toEqual([first.id, second.id].sort());
  expect(second.outputs).toMatchObject({
    retiringKeyId: first.id,
    retiringKeyExpires: first.outputs.expires,
  });
  expect(await works(first.outputs.apiKey)).toBe(true);
  // The run says which key stays and until when, and never shows a secret.
  const said = output.split("\n").find((line) => line.includes(first.id)) ?? "";
  expect(said).toContain(`stays live until it expires at ${first.outputs.expires as string}`);
  expect(said).toContain('onRotation: "expire"');
  expect(output).not.toMatch(/API-[A-Z0-9]{8,}/);

  // The retiring key alone is no change; a refresh while it lives keeps it in the outputs.
  await run(T0 + 62 * DAY, async (e) => {
    expect(await e.up("key", program)).toEqual({ step: "same" });
    await e.refresh("key");
    expect(e.outputs("key").retiringKeyId).toBe(first.id);
  });

  // Once it has expired, an update (here a window that is not due) drops it from the outputs.
  await run(T0 + 91 * DAY, async (e) => {
    expect(await e.up("key", { ...program, rotateBefore: "29d" })).toEqual({ step: "update" });
    expect(e.outputs("key")).toMatchObject({ retiringKeyId: null, retiringKeyExpires: null });
    expect(e.outputs("key").apiKey).toBe(second.outputs.apiKey);
    await e.destroy("key");
  });
  expect(emulator.hasKey(second.id)).toBe(false);
  emulator.revokeKey(first.id);
});

test("destroy during the overlap revokes the key and the one it retired", async () => {
  const program = overlapping("destroyed");
  await run(T0, (e) => e.up("d", program));
  const first = stored("d").id;
  await run(T0 + 61 * DAY, async (e) => {
    await e.up("d", program);
    expect(live("destroyed")).toHaveLength(2);
    await e.destroy("d");
  });
  expect(live("destroyed")).toEqual([]);
  expect(emulator.hasKey(first)).toBe(false);
});

test("any other replacement revokes at once, the retiring key too, even inside the window", async () => {
  const program = { ...overlapping("leaked"), rotationTriggers: { leak: "0" } };
  await run(T0, (e) => e.up("l", program));
  const first = stored("l").id;
  await run(T0 + 61 * DAY, (e) => e.up("l", program));
  const second = stored("l").id;
  expect(live("leaked")).toEqual([first, second].sort());

  // After a leak: a new trigger replaces the key, and neither old key outlives the run.
  const leak = { ...program, rotationTriggers: { leak: "1" } };
  expect(await run(T0 + 62 * DAY, (e) => e.up("l", leak))).toEqual({
    step: "replace",
    replaces: ["rotationTriggers"],
  });
  const third = stored("l");
  expect(live("leaked")).toEqual([third.id]);
  expect(third.outputs.retiringKeyId).toBeNull();

  // Inside the next window, a rotation with another change (here the purpose) revokes too.
  const renamed = { ...leak, purpose: "leaked, renamed" };
  await run(T0 + 62 * DAY + 61 * DAY, async (e) => {
    expect((await e.up("l", renamed)).replaces).toEqual(["purpose", "rotateBefore"]);
    expect(live("leaked")).toEqual([]);
    expect(e.outputs("l").retiringKeyId).toBeNull();
    await e.destroy("l");
  });
});

test('without onRotation, or with "revoke", a rotation revokes the old key at once', async () => {
  for (const onRotation of [undefined, "revoke"]) {
    const purpose = `revoked ${onRotation ?? "by default"}`;
    const { onRotation: _, ...program } = overlapping(purpose);
    if (onRotation) Object.assign(program, { onRotation });
    await run(T0, (e) => e.up("r", program));
    await run(T0 + 61 * DAY, async (e) => {
      await e.up("r", program);
      expect(live(purpose)).toEqual([e.state.get("r")!.id]);
      expect(e.outputs("r").retiringKeyId).toBeNull();
      await e.destroy("r");
    });
  }
});

test("onRotation is checked; changing it alone changes nothing on Octopus", async () => {
  const program = overlapping("switched");
  await run(T0, (e) => e.up("s", { ...program, onRotation: "revoke" }));
  await run(T0 + DAY, async (e) => {
    const misspelt = { ...program, onRotation: "Expire", __provider: e.providerText };
    expect((await e.host.check(e.urn("s"), {}, misspelt)).failures).toEqual([
      {
        property: "onRotation",
        reason:
          'must be "revoke" or "expire", not "Expire" (did you mean "expire"?); omit it for revoking at once, "revoke"',
      },
    ]);
    expect(await e.up("s", program)).toEqual({ step: "same" });
    await e.destroy("s");
  });
});
