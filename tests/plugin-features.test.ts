import { OctopusEmulator } from "../emulator/server";
import { launchPluginFor, type Plugin, pluginUrn, reveal, secret } from "../harness/plugin";
import { PluginEngine } from "../harness/plugin-engine";

// The server's key policy at check, and keys for AI agents, through the resource plugin: the same
// core as the dynamic resource (server-policy.test.ts and actor-type.test.ts run them through the
// dynamic provider host; rotation-overlap-limits.test.ts runs overlap on rotation here too).

let emulator: OctopusEmulator;
let keysOff: OctopusEmulator;
let plugin: Plugin;
let engine: PluginEngine;

beforeAll(async () => {
  emulator = await OctopusEmulator.start();
  keysOff = await OctopusEmulator.start({ userApiKeysEnabled: false });
  plugin = await launchPluginFor(emulator);
  engine = new PluginEngine(plugin);
});
afterAll(async () => {
  await plugin?.close();
  await emulator?.close();
  await keysOff?.close();
});

test("check refuses what the server's policy would, naming the setting, asking it once per run", async () => {
  const urn = pluginUrn("policy");
  const { failures } = await plugin.check(urn, {}, { purpose: "too long", expiresIn: "400d" });
  expect(failures).toEqual([
    { property: "expiresIn", reason: expect.stringMatching(/maximum key lifetime of 366 days/) },
  ]);
  const connection = secret({ address: keysOff.url, apiKey: keysOff.admin.apiKey });
  const mine = await plugin.check(urn, {}, { purpose: "mine", connection });
  expect(mine.failures).toEqual([
    {
      property: "userId",
      reason: expect.stringMatching(/admin \(Users-1\), who is not a service account/),
    },
  ]);
  const service = await plugin.check(urn, {}, { purpose: "bot", username: "ci-bot", connection });
  expect(service.failures).toEqual([]);
  expect(emulator.stats.byRoute["GET /api/authentication"]).toBe(1);
});

test("actorType: sent and reported, a change replaces the key, an import reads it back", async () => {
  const program = { purpose: "agent", username: "ci-bot", expiresIn: "30d", actorType: "AiAgent" };
  expect(await engine.up("agent", program)).toEqual({ step: "create" });
  const first = engine.state.get("agent")!;
  expect(reveal(first.outputs)).toMatchObject({ actorType: "AiAgent" });

  const replaced = await engine.up("agent", { ...program, actorType: "User" });
  expect(replaced).toEqual({ step: "replace", replaces: ["actorType"] });
  expect(emulator.hasKey(first.id)).toBe(false);
  expect(engine.state.get("agent")!.outputs.actorType).toBe("User");

  // An agent's key made outside Pulumi imports with actorType "AiAgent", and its program matches.
  await engine.up("agent", program);
  const made = engine.state.get("agent")!;
  const imported = await engine.import("imported", `${emulator.serviceAccount.id}/${made.id}`);
  expect(reveal(imported.inputs)).toMatchObject({ actorType: "AiAgent" });
  const asImported = await plugin.diff(
    made.id,
    engine.urn("imported"),
    imported.outputs,
    imported.inputs,
  );
  expect(asImported.changes).toBe("none");
  // Declared without actorType, the agent's key is not the program's: it would be replaced.
  const { actorType: _, ...plain } = reveal(imported.inputs) as Record<string, unknown>;
  const asPlain = await plugin.diff(made.id, engine.urn("imported"), imported.outputs, plain);
  expect(asPlain.replaces).toEqual(["actorType"]);
  engine.state.delete("imported");
  await engine.destroy("agent");
});
