import { OctopusEmulator } from "../emulator/server";
import { DOORS, type DoorEngine, nameOfSetting, startEngine } from "../harness/doors";
import { failureMessage, hostEnv } from "../harness/engine";
import { isSecret } from "../harness/plugin";

// The front-door harness's own test (harness/doors.ts): each door's raw calls take and give
// plain property bags, its configuration stated once by setting name reaches the provider, and
// a setting is named as the door names it.

let emulator: OctopusEmulator;
beforeAll(async () => {
  emulator = await OctopusEmulator.start();
});
afterAll(() => emulator?.close());

describe.each(DOORS)("the %s door", (door) => {
  let engine: DoorEngine;
  beforeAll(async () => {
    engine = await startEngine(door, {
      env: hostEnv(),
      config: { address: emulator.url, apiKey: emulator.admin.apiKey },
    });
  });
  afterAll(() => engine?.close());

  test("raw calls: plain bags in and out, a key's whole life", async () => {
    const wrappedOrText = (props: Record<string, unknown>) =>
      Object.keys(props).filter((k) => k === "__provider" || isSecret(props[k]));
    const connection = { address: emulator.url, apiKey: emulator.admin.apiKey };
    const checked = await engine.raw.check("raw", {}, { purpose: "raw", connection });
    expect(checked).toEqual({ inputs: { purpose: "raw", connection }, failures: [] });

    const created = await engine.raw.create("raw", checked.inputs);
    expect(emulator.hasKey(created.id)).toBe(true);
    expect(created.properties).toMatchObject({ apiKeyId: created.id, purpose: "raw", connection });
    expect(created.properties.apiKey).toMatch(/^API-/);
    expect(wrappedOrText(created.properties)).toEqual([]);

    const read = await engine.raw.read("raw", created.id, created.properties, checked.inputs);
    expect(read.id).toBe(created.id);
    expect(read.properties.apiKey).toBe(created.properties.apiKey);
    expect(wrappedOrText(read.properties)).toEqual([]);

    const news = { ...checked.inputs, rotateBefore: "7d" };
    const diff = await engine.raw.diff("raw", created.id, created.properties, news, checked.inputs);
    expect(diff).toEqual({ changes: "some", replaces: [], deleteBeforeReplace: false });
    const replacing = { ...news, purpose: "raw 2" };
    expect(
      (await engine.raw.diff("raw", created.id, created.properties, replacing, checked.inputs))
        .replaces,
    ).toEqual(["purpose"]);

    const updated = await engine.raw.update("raw", created.id, created.properties, news);
    expect(updated.properties.apiKey).toBe(created.properties.apiKey);
    expect(wrappedOrText(updated.properties)).toEqual([]);

    await engine.raw.delete("raw", created.id, updated.properties);
    expect(emulator.hasKey(created.id)).toBe(false);
    const gone = await engine.raw.read("raw", created.id, updated.properties);
    expect(gone.id).toBe("");
  });

  test("the configuration reaches the provider, and outputs() is plain", async () => {
    await engine.up("configured", { purpose: "from the door's config" });
    const outs = engine.outputs("configured");
    expect(outs.serverUrl).toBe(emulator.url);
    expect(outs.userId).toBe(emulator.admin.id);
    expect(outs.apiKey).toMatch(/^API-/);
    expect(outs).not.toHaveProperty("__provider");
    await engine.destroy("configured");
  });

  test("a setting is named as this door's configuration names it", async () => {
    const named = nameOfSetting(door, "address");
    expect(engine.settingName("address")).toBe(named);
    expect(named).toBe(
      door === "dynamic" ? "stack config octopusdeploy:address" : "octopusapikey:address",
    );
    await engine.up("pinned", { purpose: "pinned" });
    const stored = engine.state.get("pinned")!;
    engine.state.set("pinned", {
      ...stored,
      outputs: { ...stored.outputs, serverUrl: "https://old.example.com" },
    });
    const message = await failureMessage(engine.refresh("pinned"));
    expect(message).toContain(`${emulator.url} (from ${named})`);
    engine.state.set("pinned", stored);
    await engine.destroy("pinned");
  });
});

test("the dynamic door refuses a setting its stack config does not have", async () => {
  const started = startEngine("dynamic", { config: { requestTimeout: 1000 } });
  expect(await failureMessage(started)).toMatch(/no stack config for requestTimeout/);
});

test("the plugin's door refuses what CheckConfig refuses, as the engine would", async () => {
  const started = startEngine("plugin", { env: hostEnv(), config: { address: "not a url" } });
  expect(await failureMessage(started)).toMatch(/octopusapikey:address/);
});
