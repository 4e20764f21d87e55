import { OctopusEmulator } from "../emulator/server";
import {
  isSecret,
  launchPluginFor,
  type Plugin,
  PluginCallError,
  pluginUrn,
  reveal,
  secret,
  UNKNOWN,
  UNKNOWN_OBJECT,
} from "../harness/plugin";
import { PluginEngine } from "../harness/plugin-engine";

// A key's whole life through the plugin, spawned as the engine spawns it and driven over gRPC,
// against the emulator: check (with preview's unknowns), create, diff, update, replace,
// refresh, delete; the key and the connection always travel as secrets.

type Props = Record<string, unknown>;

let emulator: OctopusEmulator;
let plugin: Plugin;
let engine: PluginEngine;

beforeAll(async () => {
  emulator = await OctopusEmulator.start();
  plugin = await launchPluginFor(emulator);
  engine = new PluginEngine(plugin);
});
afterAll(async () => {
  await plugin?.close();
  await emulator?.close();
});

const outputs = (name: string): Props => engine.state.get(name)?.outputs ?? {};

describe("check", () => {
  const urn = pluginUrn("checked");

  test("at preview, values not known yet pass, in every form the engine sends them", async () => {
    const news = {
      purpose: UNKNOWN,
      username: secret(UNKNOWN),
      connection: UNKNOWN_OBJECT,
      rotationTriggers: { build: UNKNOWN },
    };
    const { inputs, failures } = await plugin.check(urn, {}, news);
    expect(failures).toEqual([]);
    expect(reveal(inputs)).toEqual({
      purpose: UNKNOWN,
      username: UNKNOWN,
      connection: UNKNOWN,
      rotationTriggers: { build: UNKNOWN },
    });
    // Still secret, and the connection always is.
    expect(isSecret(inputs.username)).toBe(true);
    expect(isSecret(inputs.connection)).toBe(true);
    // A value preview knows is still checked.
    const bad = await plugin.check(urn, {}, { purpose: UNKNOWN, expiresIn: "soon" });
    expect(bad.failures).toEqual([
      { property: "expiresIn", reason: expect.stringMatching(/must be a duration such as 90d/) },
    ]);
  });

  test("bad inputs fail, each naming the property and the fix, and nothing is sent", async () => {
    const before = emulator.stats.requests;
    const { failures } = await plugin.check(
      urn,
      {},
      { username: "a", userId: "Users-1", purps: "x" },
    );
    expect(failures.map((f) => f.property).sort()).toEqual(["purpose", "purps", "userId"]);
    expect(emulator.stats.requests).toBe(before);
  });

  test("a connection given as an input is wrapped as a secret in the checked inputs", async () => {
    const connection = { address: emulator.url, apiKey: emulator.admin.apiKey };
    const { inputs, failures } = await plugin.check(urn, {}, { purpose: "p", connection });
    expect(failures).toEqual([]);
    expect(inputs.connection).toEqual(secret(connection));
    // A secret inside it (the program's own `pulumi.secret(key)`) is read, and stays hidden.
    const nested = { ...connection, apiKey: secret(emulator.admin.apiKey) };
    const again = await plugin.check(urn, {}, { purpose: "p", connection: nested });
    expect(again.failures).toEqual([]);
    expect(again.inputs.connection).toEqual(secret(connection));
  });
});

describe("a key's life", () => {
  const program = { purpose: "CI deployments", username: "CI-BOT", expiresIn: "30d" };

  test("create: the key exists, works, and comes back as a secret", async () => {
    expect(await engine.up("deployer", program)).toEqual({ step: "create" });
    const outs = outputs("deployer");
    const id = engine.state.get("deployer")?.id as string;
    expect(id).toMatch(/^apikeys-/);
    expect(emulator.hasKey(id)).toBe(true);
    expect(isSecret(outs.apiKey)).toBe(true);
    const apiKey = reveal(outs.apiKey) as string;
    expect(apiKey).toMatch(/^API-[A-Z0-9]+$/);
    expect(outs).toMatchObject({
      apiKeyId: id,
      userId: emulator.serviceAccount.id,
      username: "ci-bot",
      purpose: "CI deployments",
      serverUrl: emulator.url,
      hint: apiKey.slice(0, 8),
      expired: false,
    });
    const me = await fetch(`${emulator.url}/api/users/me`, {
      headers: { "X-Octopus-ApiKey": apiKey },
    });
    expect(((await me.json()) as { Id: string }).Id).toBe(emulator.serviceAccount.id);
    // No other output is a secret: nothing else would be hidden from the program.
    const wrapped = Object.keys(outs).filter((key) => isSecret(outs[key]));
    expect(wrapped).toEqual(["apiKey"]);
  });

  test("the same program: no change", async () => {
    expect(await engine.up("deployer", program)).toEqual({ step: "same" });
    expect(await engine.up("deployer", { ...program, username: "ci-bot" })).toEqual({
      step: "same",
    });
  });

  test("rotateBefore added: an update in place, the key and its secret kept, nothing sent", async () => {
    const before = { ...outputs("deployer") };
    const requests = emulator.stats.requests;
    expect(await engine.up("deployer", { ...program, rotateBefore: "7d" })).toEqual({
      step: "update",
    });
    expect(emulator.stats.requests).toBe(requests);
    const after = outputs("deployer");
    expect(after.apiKey).toEqual(before.apiKey);
    expect(after.apiKeyId).toBe(before.apiKeyId);
    expect(after.rotateAt).toEqual(expect.any(String));
  });

  test("diff shows what changes and what replaces, with a detailed diff of the inputs", async () => {
    const stored = engine.state.get("deployer");
    if (!stored) throw new Error("no state");
    const checked = await plugin.check(engine.urn("deployer"), stored.inputs, {
      ...program,
      purpose: "CI deploys",
      rotateBefore: "7d",
      rotationTriggers: { quarter: "q1" },
    });
    const diff = await plugin.diff(
      stored.id,
      engine.urn("deployer"),
      stored.outputs,
      checked.inputs,
      stored.inputs,
    );
    expect(diff).toEqual({
      changes: "some",
      replaces: ["purpose", "rotationTriggers"],
      deleteBeforeReplace: false,
      detailed: { purpose: "update-replace", rotationTriggers: "add-replace" },
    });
    // At preview, an unknown purpose may be another one: a replacement.
    const unknown = await plugin.diff(
      stored.id,
      engine.urn("deployer"),
      stored.outputs,
      { ...checked.inputs, purpose: UNKNOWN },
      stored.inputs,
    );
    expect(unknown.replaces).toContain("purpose");
  });

  test("a new purpose replaces the key: the new one first, then the old one is revoked", async () => {
    const old = engine.state.get("deployer")?.id as string;
    const result = await engine.up("deployer", {
      ...program,
      purpose: "CI deploys",
      rotateBefore: "7d",
    });
    expect(result).toEqual({ step: "replace", replaces: ["purpose"] });
    const id = engine.state.get("deployer")?.id as string;
    expect(id).not.toBe(old);
    expect(emulator.hasKey(id)).toBe(true);
    expect(emulator.hasKey(old)).toBe(false);
  });

  test("refresh keeps the secret; a key revoked outside Pulumi leaves the state", async () => {
    const secretBefore = outputs("deployer").apiKey;
    expect(await engine.refresh("deployer")).toBe("kept");
    expect(outputs("deployer").apiKey).toEqual(secretBefore);
    expect(isSecret(outputs("deployer").apiKey)).toBe(true);

    expect(await engine.up("doomed", { purpose: "revoked by hand" })).toEqual({ step: "create" });
    emulator.revokeKey(engine.state.get("doomed")?.id as string);
    expect(await engine.refresh("doomed")).toBe("gone");
  });

  test("destroy revokes the key", async () => {
    const id = engine.state.get("deployer")?.id as string;
    await engine.destroy("deployer");
    expect(emulator.hasKey(id)).toBe(false);
  });
});

test("a connection input is stored as a secret, in the inputs and the outputs", async () => {
  const connection = {
    address: emulator.url,
    apiKey: emulator.admin.apiKey,
    requestTimeout: 20_000,
  };
  expect(await engine.up("own-connection", { purpose: "with a connection", connection })).toEqual({
    step: "create",
  });
  const stored = engine.state.get("own-connection");
  expect(stored?.inputs.connection).toEqual(secret(connection));
  expect(stored?.outputs.connection).toEqual(secret(connection));
  // Credentials rotated: an update, the key kept.
  const rotated = { ...connection, requestTimeout: "25s" };
  expect(
    await engine.up("own-connection", { purpose: "with a connection", connection: rotated }),
  ).toEqual({ step: "update" });
  await engine.destroy("own-connection");
});

test("a key is refreshed and deleted only on its own server: nothing goes elsewhere", async () => {
  expect(await engine.up("pinned", { purpose: "pinned" })).toEqual({ step: "create" });
  const stored = engine.state.get("pinned") as { id: string; outputs: Props; inputs: Props };
  const elsewhere = { ...stored.outputs, serverUrl: "https://old.example.com" };
  const requests = emulator.stats.requests;
  const error = await plugin
    .read(stored.id, engine.urn("pinned"), elsewhere, stored.inputs)
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PluginCallError);
  expect((error as Error).message).toMatch(
    /lives on https:\/\/old\.example\.com .* \(from octopusapikey:address\)/,
  );
  expect((error as Error).message).toMatch(
    /set OCTOPUS_URL or octopusapikey:address to https:\/\/old\.example\.com/,
  );
  expect(emulator.stats.requests).toBe(requests);
  await engine.destroy("pinned");
});
