import { OctopusEmulator } from "../emulator/server";
import {
  isSecret,
  launchPluginFor,
  type Plugin,
  PluginCallError,
  pluginUrn,
  reveal,
} from "../harness/plugin";
import { PluginEngine } from "../harness/plugin-engine";
import { MAX_PROBES } from "../provider/core/import";

// `pulumi import` of keys made outside Pulumi, and the `getApiKeys` function, through the plugin
// over gRPC against the emulator (2026.3: keys report their access level and last use).

type Props = Record<string, unknown>;

const DAY = 86_400_000;
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

/** A key made in Octopus's portal (behind the API's back), `days` days long. */
function portalKey(userId: string, purpose: string, days = 30, accessLevel?: "ReadOnly") {
  return emulator.createKey(userId, {
    purpose,
    expires: new Date(emulator.now().getTime() + days * DAY),
    ...(accessLevel ? { accessLevel } : {}),
  });
}

/** Any whole API key in `value`: there must be none in what import and getApiKeys return. */
const SECRET = /API-[A-Z0-9]{9,}/;

describe("import", () => {
  test("Users-N/apikeys-…: the key's properties and a program's inputs, no secret", async () => {
    const key = portalKey(emulator.serviceAccount.id, "made in the portal");
    const stored = await engine.import("portal", `${emulator.serviceAccount.id}/${key.id}`);
    expect(stored.id).toBe(key.id);
    const live = emulator.liveKeys().find((k) => k.Id === key.id);
    expect(reveal(stored.inputs)).toEqual({
      purpose: "made in the portal",
      username: "ci-bot",
      expiresAt: live?.Expires,
    });
    expect(stored.outputs).toMatchObject({
      apiKeyId: key.id,
      userId: emulator.serviceAccount.id,
      username: "ci-bot",
      purpose: "made in the portal",
      hint: key.secret.slice(0, 8),
      serverUrl: emulator.url,
      accessLevel: "FullAccess",
      expired: false,
    });
    expect(stored.outputs).not.toHaveProperty("apiKey");
    expect(JSON.stringify(stored)).not.toMatch(SECRET);
  });

  test("a program declaring the same purpose and owner sees no replacement, however it names them", async () => {
    const program = { purpose: "made in the portal", username: "ci-bot" };
    // The inputs import returned, exactly: what `pulumi import` writes into the program.
    expect(await engine.up("portal", reveal(engine.state.get("portal")?.inputs) as Props)).toEqual({
      step: "same",
    });
    expect(await engine.up("portal", program)).toEqual({ step: "same" });
    expect(await engine.up("portal", { ...program, username: "CI-BOT" })).toEqual({ step: "same" });
    expect(
      await engine.up("portal", { purpose: program.purpose, userId: emulator.serviceAccount.id }),
    ).toEqual({
      step: "same",
    });
    // Its lifetime (30 days), as expiresIn; and its level, named.
    expect(
      await engine.up("portal", { ...program, expiresIn: "30d", accessLevel: "FullAccess" }),
    ).toEqual({
      step: "same",
    });
    // A refresh keeps it an imported key.
    expect(await engine.refresh("portal")).toBe("kept");
    expect(await engine.up("portal", { ...program, expiresIn: "720h" })).toEqual({ step: "same" });
  });

  test("a program asking for something else replaces the imported key", async () => {
    const program = { purpose: "made in the portal", username: "ci-bot" };
    const old = engine.state.get("portal")?.id as string;
    const different = await engine.up("portal", { ...program, expiresIn: "90d" });
    expect(different).toEqual({ step: "replace", replaces: ["expiresIn"] });
    expect(emulator.hasKey(old)).toBe(false);
    // The replacement is a key this stack made: it has its secret.
    expect(isSecret(engine.state.get("portal")?.outputs.apiKey)).toBe(true);
    await engine.destroy("portal");
  });

  test("a setting that keeps the key is recorded, and the key stays", async () => {
    const key = portalKey(emulator.serviceAccount.id, "rotating in place");
    await engine.import("rotating", `${emulator.serviceAccount.id}/${key.id}`);
    const program = { purpose: "rotating in place", username: "ci-bot", expiresIn: "30d" };
    expect(await engine.up("rotating", { ...program, rotateBefore: "7d" })).toEqual({
      step: "update",
    });
    expect(engine.state.get("rotating")?.outputs).toMatchObject({
      apiKeyId: key.id,
      expiresIn: "30d",
    });
    expect(await engine.up("rotating", { ...program, rotateBefore: "7d" })).toEqual({
      step: "same",
    });
    await engine.destroy("rotating");
    expect(emulator.hasKey(key.id)).toBe(false);
  });

  test("the key id alone: the caller's own key, then a service account's", async () => {
    const own = portalKey(emulator.admin.id, "the admin's own");
    const stored = await engine.import("own", own.id);
    expect(reveal(stored.inputs)).toEqual({
      purpose: "the admin's own",
      expiresAt: expect.any(String),
    });
    expect(stored.outputs).toMatchObject({ userId: emulator.admin.id, username: "admin" });
    expect(await engine.up("own", { purpose: "the admin's own" })).toEqual({ step: "same" });

    const account = portalKey(emulator.serviceAccount.id, "a service account's");
    expect((await engine.import("account", account.id)).outputs).toMatchObject({
      userId: emulator.serviceAccount.id,
    });
  });

  test("a read-only key imports as one, and stays one", async () => {
    const key = portalKey(emulator.serviceAccount.id, "read only", 30, "ReadOnly");
    const stored = await engine.import("reader", `${emulator.serviceAccount.id}/${key.id}`);
    expect(reveal(stored.inputs)).toMatchObject({ accessLevel: "ReadOnly" });
    const program = { purpose: "read only", username: "ci-bot" };
    expect(await engine.up("reader", { ...program, accessLevel: "ReadOnly" })).toEqual({
      step: "same",
    });
    // Without the level the program asks for the server's default, full access: a new key.
    expect(await engine.up("reader", program)).toEqual({
      step: "replace",
      replaces: ["accessLevel"],
    });
  });

  test("what cannot be imported says why, and what to give instead", async () => {
    const other = portalKey(emulator.user.id, "an ordinary user's");
    const messages: string[] = [];
    for (const id of [
      other.id,
      "apikeys-nothing",
      `${emulator.user.id}/apikeys-nothing`,
      "a/b/c",
    ]) {
      const error = await plugin.read(id, pluginUrn("nope")).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PluginCallError);
      messages.push((error as Error).message);
    }
    expect(messages[0]).toMatch(
      new RegExp(
        `No API key ${other.id} among your own keys and every service account's \\(1\\) .*import it as Users-N/apikeys-`,
      ),
    );
    expect(messages[1]).toMatch(/No API key apikeys-nothing/);
    expect(messages[2]).toMatch(/has no API key apikeys-nothing for the user Users-3/);
    expect(messages[3]).toMatch(/is not a key id; use Users-N\/apikeys-/);
    // The ordinary user's key, with its owner named, imports.
    const stored = await engine.import("other", `${emulator.user.id}/${other.id}`);
    expect(stored.outputs).toMatchObject({ username: emulator.user.username });
  });

  test(`the search by key id alone is bounded: at most ${MAX_PROBES} service accounts`, async () => {
    for (let i = 0; i < MAX_PROBES + 5; i++) {
      emulator.addUser({ username: `robot-${i}`, isService: true });
    }
    const requests = emulator.stats.requests;
    const error = await plugin
      .read("apikeys-nowhere", pluginUrn("bounded"))
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      new RegExp(`the first ${MAX_PROBES} service accounts'`),
    );
    // me, one key, the users' pages, and one key per service account asked.
    expect(emulator.stats.requests - requests).toBeLessThanOrEqual(MAX_PROBES + 5);
  });
});

describe("getApiKeys", () => {
  const getApiKeys = (args: Props) => plugin.invoke("octopusapikey:index:getApiKeys", args);

  test("a user's keys, newest first, each with its id, purpose, dates, level and hint, no secret", async () => {
    const first = portalKey(emulator.serviceAccount.id, "audit: first");
    const second = portalKey(emulator.serviceAccount.id, "audit: second", 10, "ReadOnly");
    await fetch(`${emulator.url}/api/users/me`, { headers: { "X-Octopus-ApiKey": second.secret } });
    const { outputs, failures } = await getApiKeys({ username: "ci-bot", purpose: "AUDIT:" });
    expect(failures).toEqual([]);
    expect(outputs).toMatchObject({ userId: emulator.serviceAccount.id, username: "ci-bot" });
    const keys = outputs.keys as Props[];
    expect(keys.map((k) => k.id)).toEqual([second.id, first.id]);
    expect(keys[0]).toEqual({
      id: second.id,
      purpose: "audit: second",
      created: expect.any(String),
      expires: expect.any(String),
      lastUsed: expect.any(String),
      accessLevel: "ReadOnly",
      hint: second.secret.slice(0, 8),
    });
    expect(keys[1]).toMatchObject({ lastUsed: null, accessLevel: "FullAccess" });
    expect(JSON.stringify(outputs)).not.toMatch(SECRET);
  });

  test("by userId, or the caller's own by default; every page of a long list", async () => {
    const byId = await getApiKeys({ userId: emulator.serviceAccount.id, purpose: "audit:" });
    expect((byId.outputs.keys as Props[]).length).toBe(2);
    for (let i = 0; i < 120; i++) portalKey(emulator.admin.id, `bulk ${i}`);
    const mine = await getApiKeys({});
    expect(mine.outputs.userId).toBe(emulator.admin.id);
    const all = emulator.liveKeys(emulator.admin.id).map((k) => k.Id);
    expect((mine.outputs.keys as Props[]).map((k) => k.id)).toEqual(all);
    expect(all.length).toBeGreaterThan(120);
  });

  test("bad arguments fail, naming the argument, and nothing is sent", async () => {
    const requests = emulator.stats.requests;
    const { failures } = await getApiKeys({ userId: "Users-2", username: "ci-bot", owner: "me" });
    expect(failures.map((f) => f.property).sort()).toEqual(["owner", "userId"]);
    expect(emulator.stats.requests).toBe(requests);
    const unknownUser = await getApiKeys({ username: "nobody" }).catch((e: unknown) => e);
    expect((unknownUser as Error).message).toMatch(/has the username "nobody"/);
    const other = await plugin.invoke("octopusapikey:index:getKeys", {}).catch((e: unknown) => e);
    expect((other as Error).message).toMatch(/not a function of this package/);
  });
});
