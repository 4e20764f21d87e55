import { OctopusEmulator } from "../emulator/server";
import type { Engine } from "../harness/engine";
import { type EngineLogServer, startEngineLog } from "../harness/engine-log";
import { reveal } from "../harness/plugin";
import { ClockRuns, DAY, T0 } from "./support/clock-runs";
import { PluginClockRuns } from "./support/plugin-clock-runs";

// Overlap on rotation where the provider cannot tell, or must choose: a rotation finished by a
// later run, two resources with the same inputs rotating in one run of the dynamic host, and a
// rotation while the key before is still retiring. Then the same feature through the plugin,
// which is told the URN and tells the engine.

type Props = Record<string, unknown>;

let emulator: OctopusEmulator;
let runs: ClockRuns;
const run = <T>(at: number, body: (engine: Engine) => Promise<T>) => runs.run(at, body);
const live = (purpose: string) => runs.live(purpose);

const overlapping = (purpose: string, extra: Props = {}) => ({
  purpose,
  username: "ci-bot",
  expiresIn: "90d",
  rotateBefore: "30d",
  onRotation: "expire",
  ...extra,
});

beforeAll(async () => {
  emulator = await OctopusEmulator.start();
  runs = new ClockRuns(emulator);
});
afterAll(() => emulator?.close());

/** The engine's calls for a replacement, stopped before the delete: returns the old resource. */
async function replaceWithoutDelete(engine: Engine, name: string, program: Props) {
  const old = engine.state.get(name)!;
  const news = { ...program, __provider: engine.providerText };
  const checked = await engine.host.check(engine.urn(name), old.inputs, news);
  const diff = await engine.host.diff(old.id, engine.urn(name), old.outputs, checked.inputs);
  expect(diff.replaces).toEqual(["rotateBefore"]);
  const created = await engine.host.create(engine.urn(name), checked.inputs);
  engine.state.set(name, { id: created.id, inputs: checked.inputs, outputs: created.properties });
  return old;
}

test("a rotation interrupted before its delete, finished by a later run, revokes; refresh then clears the name", async () => {
  const program = overlapping("interrupted");
  await run(T0, (e) => e.up("i", program));
  const old = await run(T0 + 61 * DAY, (e) => replaceWithoutDelete(e, "i", program));
  expect(runs.stored.get("i")!.outputs.retiringKeyId).toBe(old.id);

  // The next run (a fresh provider process) deletes the replaced key it finds in state: it saw
  // no diff, so it cannot tell a rotation from a destroy, and revokes.
  await run(T0 + 61 * DAY, async (e) => {
    await e.host.delete(old.id, e.urn("i"), old.outputs);
    expect(emulator.hasKey(old.id)).toBe(false);
    await e.refresh("i");
    expect(e.outputs("i")).toMatchObject({ retiringKeyId: null, retiringKeyExpires: null });
    await e.destroy("i");
  });
  expect(live("interrupted")).toEqual([]);
});

test("two resources with the same inputs rotating together in the dynamic host: both revoke, and the run says why", async () => {
  const program = overlapping("twins");
  await run(T0, async (e) => {
    await e.up("a", program);
    await e.up("b", program);
  });
  const output = await run(T0 + 61 * DAY, async (e) => {
    // The engine runs the two replacements side by side: both diffs before either create.
    const olds = [e.state.get("a")!, e.state.get("b")!];
    const news = { ...program, __provider: e.providerText };
    const checked = await e.host.check(e.urn("a"), olds[0].inputs, news);
    for (const [i, old] of olds.entries()) {
      const diff = await e.host.diff(old.id, e.urn(["a", "b"][i]), old.outputs, checked.inputs);
      expect(diff.replaces).toEqual(["rotateBefore"]);
    }
    for (const name of ["a", "b"]) {
      const created = await e.host.create(e.urn(name), checked.inputs);
      expect(created.properties.retiringKeyId).toBeNull();
      e.state.set(name, { id: created.id, inputs: checked.inputs, outputs: created.properties });
    }
    for (const [i, old] of olds.entries()) {
      await e.host.delete(old.id, e.urn(["a", "b"][i]), old.outputs);
      expect(emulator.hasKey(old.id)).toBe(false);
    }
    await e.destroy("a");
    await e.destroy("b");
    return e.host.output();
  });
  expect(output).toMatch(/revoked at once although onRotation is "expire"/);
  expect(live("twins")).toEqual([]);
});

test("a rotation while the key before is still retiring revokes that one: one retiring key at most", async () => {
  // A window longer than half the lifetime: the next rotation comes before the retiring key expires.
  const program = overlapping("chain", { rotateBefore: "60d" });
  await run(T0, (e) => e.up("c", program));
  const first = runs.stored.get("c")!.id;
  await run(T0 + 31 * DAY, (e) => e.up("c", program));
  const second = runs.stored.get("c")!.id;
  expect(live("chain")).toEqual([first, second].sort());
  await run(T0 + 62 * DAY, async (e) => {
    expect((await e.up("c", program)).replaces).toEqual(["rotateBefore"]);
    const third = e.state.get("c")!;
    expect(live("chain")).toEqual([second, third.id].sort());
    expect(third.outputs.retiringKeyId).toBe(second);
  });
  // Once the retiring key has expired (day 121), a refresh drops it from the outputs.
  await run(T0 + 122 * DAY, async (e) => {
    await e.refresh("c");
    expect(e.outputs("c")).toMatchObject({ retiringKeyId: null, retiringKeyExpires: null });
    await e.destroy("c");
  });
  emulator.revokeKey(second);
  expect(live("chain")).toEqual([]);
});

describe("through the plugin", () => {
  let log: EngineLogServer;
  let plugins: PluginClockRuns;

  beforeAll(async () => {
    log = await startEngineLog();
    plugins = new PluginClockRuns(emulator, log.address);
  });
  afterAll(() => log?.close());

  test("a rotation leaves the old key live, names it, and tells the engine with the resource's URN", async () => {
    const program = overlapping("plugin overlap");
    await plugins.run(T0, (e) => e.up("p", program));
    const first = plugins.stored.get("p")!;
    const urn = await plugins.run(T0 + 61 * DAY, async (e) => {
      expect(await e.up("p", program)).toEqual({ step: "replace", replaces: ["rotateBefore"] });
      return e.urn("p");
    });
    const second = plugins.stored.get("p")!;
    expect(live("plugin overlap")).toEqual([first.id, second.id].sort());
    expect(second.outputs).toMatchObject({
      retiringKeyId: first.id,
      retiringKeyExpires: first.outputs.expires,
    });
    const told = log.entries.filter((entry) => entry.message.includes(first.id));
    expect(told).toEqual([
      {
        severity: "info",
        urn,
        message: expect.stringContaining(
          `stays live until it expires at ${first.outputs.expires as string}`,
        ),
      },
    ]);
    expect(told[0].message).not.toContain(reveal(first.outputs.apiKey) as string);

    await plugins.run(T0 + 62 * DAY, (e) => e.destroy("p"));
    expect(live("plugin overlap")).toEqual([]);
  });
});
