import { OctopusEmulator } from "../emulator/server";
import { DynamicProvider } from "../provider/dynamic/host";
import { UNKNOWN } from "../provider/core/check";
import { ApiKeyState, STATE_VERSION } from "../provider/core/state";
import type { ApiKeyInputs } from "../provider/core/fields";
import { setClock } from "../provider/core/time";
import { emulatorEnv, Engine } from "../harness/engine";

// Diff decides from the stored outputs and the new inputs alone: no server is running here, so a
// diff that tried to call one would fail.
const connection = { address: "https://octopus.example.com", apiKey: "API-DIFFTESTKEY00001" };
const created = Date.parse("2026-03-01T00:00:00Z");
const day = 86_400_000;

const state: ApiKeyState = {
  stateVersion: STATE_VERSION,
  apiKey: "API-THESECRETKEYVALUE01",
  apiKeyId: "apikeys-abc",
  userId: "Users-2",
  username: "ci-bot",
  purpose: "CI",
  created: new Date(created).toISOString(),
  expires: new Date(created + 90 * day).toISOString(),
  hint: "API-THES",
  serverUrl: "https://octopus.example.com",
  expired: false,
  rotateAt: null,
  accessLevel: null,
  lastUsed: null,
  actorType: null,
  retiringKeyId: null,
  retiringKeyExpires: null,
  requestedAccessLevel: null,
  requestedActorType: null,
  userSelector: "username",
  expiresAt: null,
  expiresIn: "90d",
  rotateBefore: null,
  rotationTriggers: null,
  connection,
  requested: null,
  clockSkewMs: 0,
  imported: false,
};
const inputs = { purpose: "CI", username: "ci-bot", expiresIn: "90d", connection };

async function diff(news: Record<string, unknown>, olds: Partial<ApiKeyState> = {}) {
  return new DynamicProvider().lifecycle.diff(
    "apikeys-abc",
    { ...state, ...olds },
    news as ApiKeyInputs,
  );
}

afterEach(() => setClock());
beforeEach(() => setClock(() => created + day));

test("no change answers changes: false", async () => {
  expect(await diff(inputs)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
});

test("time passing does not change a key with expiresIn", async () => {
  setClock(() => created + 80 * day);
  expect((await diff(inputs)).changes).toBe(false);
});

test.each([
  ["purpose", { purpose: "CD" }],
  ["username", { username: "someone-else" }],
  ["userId", { username: undefined, userId: "Users-9" }],
  ["expiresIn", { expiresIn: "30d" }],
  ["expiresAt", { expiresIn: undefined, expiresAt: "2027-01-01T00:00:00Z" }],
  ["connection", { connection: { ...connection, address: "https://other.example.com" } }],
  ["rotationTriggers", { rotationTriggers: { quarter: "Q3" } }],
])("a change of %s replaces the key, new one first", async (property, change) => {
  const result = await diff({ ...inputs, ...change });
  expect(result.changes).toBe(true);
  expect(result.replaces).toContain(property);
  expect(result.deleteBeforeReplace).toBe(false);
});

test("the same server spelled differently is the same server", async () => {
  const result = await diff({
    ...inputs,
    connection: { ...connection, address: "HTTPS://Octopus.Example.com/" },
  });
  expect(result.replaces).toEqual([]);
});

test("a change of credentials alone is an in-place update", async () => {
  const result = await diff({
    ...inputs,
    connection: { ...connection, apiKey: "API-ROTATEDADMINKEY1" },
  });
  expect(result).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
});

test("the same user named another way is not a replacement", async () => {
  expect((await diff({ ...inputs, username: "CI-Bot" })).changes).toBe(false);
  const byId = await diff({ ...inputs, username: undefined, userId: "Users-2" });
  expect(byId.replaces).toEqual([]);
});

test("switching from a named user to the caller replaces the key", async () => {
  expect((await diff({ ...inputs, username: undefined })).replaces).toEqual(["username"]);
});

test("an unknown value during preview is reported as a replacement", async () => {
  expect((await diff({ ...inputs, purpose: UNKNOWN })).replaces).toEqual(["purpose"]);
});

describe("rotation", () => {
  const rotating = { ...inputs, rotateBefore: "30d" };
  const stored = { rotateBefore: "30d" };

  test("no diff before the window", async () => {
    setClock(() => created + 59 * day);
    expect((await diff(rotating, stored)).changes).toBe(false);
  });

  test("replaces inside the window", async () => {
    setClock(() => created + 61 * day);
    expect((await diff(rotating, stored)).replaces).toEqual(["rotateBefore"]);
  });

  test("replaces an expired key", async () => {
    setClock(() => created + 100 * day);
    expect((await diff(rotating, stored)).replaces).toEqual(["rotateBefore"]);
  });

  test("the server's clock counts: a server 12 hours ahead rotates 12 hours earlier", async () => {
    const ahead = { ...stored, clockSkewMs: day / 2 };
    setClock(() => created + 59.4 * day);
    expect((await diff(rotating, ahead)).changes).toBe(false);
    setClock(() => created + 59.6 * day);
    expect((await diff(rotating, ahead)).replaces).toEqual(["rotateBefore"]);
  });

  test("a new rotateBefore outside the window is an in-place update", async () => {
    setClock(() => created + 50 * day);
    expect(await diff({ ...inputs, rotateBefore: "30d" })).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  test("a new rotateBefore that puts the key inside its window replaces it", async () => {
    setClock(() => created + 50 * day);
    expect((await diff({ ...inputs, rotateBefore: "45d" })).replaces).toEqual(["rotateBefore"]);
  });

  test("a key that never expires never rotates with time", async () => {
    setClock(() => created + 1000 * day);
    const result = await diff(
      { ...inputs, expiresIn: undefined, rotateBefore: "30d" },
      {
        expires: null,
        expiresIn: null,
        rotateBefore: "30d",
      },
    );
    expect(result.changes).toBe(false);
  });
});

test("reads state written without a stateVersion (the first release's shape)", async () => {
  const { stateVersion: _omit, ...firstRelease } = state;
  const result = await new DynamicProvider().lifecycle.diff("apikeys-abc", firstRelease, inputs);
  expect(result.changes).toBe(false);
});

describe("through the provider host", () => {
  let emulator: OctopusEmulator;
  let engine: Engine;
  beforeAll(async () => {
    emulator = await OctopusEmulator.start();
    engine = await Engine.start({ env: emulatorEnv(emulator) });
  });
  afterAll(async () => {
    await engine?.close();
    await emulator?.close();
  });

  test("a userId spelled in another case than Octopus stores it keeps the key", async () => {
    const stored = emulator.serviceAccount.id;
    const spelled = stored.toLowerCase();
    expect(spelled).not.toBe(stored);
    await engine.up("case", { purpose: "id case", userId: spelled });
    expect(engine.outputs("case").userId).toBe(stored);
    const id = engine.state.get("case")!.id;
    expect(await engine.up("case", { purpose: "id case", userId: spelled })).toEqual({
      step: "same",
    });
    expect(await engine.up("case", { purpose: "id case", userId: stored.toUpperCase() })).toEqual({
      step: "same",
    });
    expect(engine.state.get("case")!.id).toBe(id);
    // Another user is still another user.
    const other = emulator.addUser({ username: "case-other", isService: true });
    expect((await engine.up("case", { purpose: "id case", userId: other.id })).step).toBe(
      "replace",
    );
    await engine.destroy("case");
  });
});
