import { OctopusEmulator } from "../emulator/server";
import { Engine, failureMessage } from "../harness/engine";
import { HostileServer, json, route } from "./support/hostile";
import { HostileStack, startHostileStack } from "./support/hostile-stack";

// Diff and the username lookup follow one rule (provider/octopus/usernames.ts `usernameMatch`):
// a username is the same as the stored one when it is equal, or equal but for letter case with
// no compatibility folding. A look-alike that lower-cases to the same text (the Kelvin sign K,
// U+212A, lower-cases to k) names another user for the lookup, so diff replaces the key: the
// program gets the key of the user it names, or an error, never the other user's key kept.
// Through the real provider host. The emulator, like Octopus, keeps usernames unique apart from
// case, so a server listing both users is played by a hostile server in front of it.

const KELVIN = "\u212A";
const LOOK_ALIKE = `${KELVIN}ate-bot`;

let stack: HostileStack | undefined;
let emulator: OctopusEmulator;
let hostile: HostileServer;
let engine: Engine;
let kate: { id: string };
let twin: { id: string };

beforeAll(async () => {
  stack = await startHostileStack();
  ({ emulator, hostile, engine } = stack);
  kate = emulator.addUser({ username: "kate-bot", isService: true });
  twin = emulator.addUser({ username: "kelvin-twin", isService: true });
});
afterEach(() => hostile.clear());
afterAll(() => stack?.close());

/** The server lists kate-bot and, as the emulator's `twin`, its Kelvin-sign look-alike. */
function bothUsersListed(): void {
  const users = [
    { Id: kate.id, Username: "kate-bot", IsService: true },
    { Id: twin.id, Username: LOOK_ALIKE, IsService: true },
  ];
  hostile.use((req, res) => {
    if (route(req, "GET", /^\/api\/users$/)) {
      json(res, { Items: users, TotalResults: users.length });
      return true;
    }
    if (route(req, "GET", new RegExp(`^/api/users/${twin.id}$`))) {
      json(res, users[1]);
      return true;
    }
    return false;
  });
}

// First: user lookups are cached for the host's run, and this one must ask the emulator.
test("where only kate-bot exists, the look-alike is a replacement that fails: the key stays kate-bot's", async () => {
  await engine.up("only", { purpose: "only", username: "kate-bot" });
  const before = engine.state.get("only")!;
  const message = await failureMessage(
    engine.up("only", { purpose: "only", username: LOOK_ALIKE }),
  );
  expect(message).toMatch(/No Octopus user .* has the username "\u212Aate-bot"/);
  expect(engine.state.get("only")).toEqual(before);
  expect(emulator.hasKey(before.id)).toBe(true);
  await engine.destroy("only");
});

test("kate-bot to its Kelvin-sign look-alike: replaced, the new key is the look-alike's", async () => {
  bothUsersListed();
  await engine.up("kate", { purpose: "kate", username: "kate-bot" });
  const first = engine.state.get("kate")!;
  expect(first.outputs.userId).toBe(kate.id);

  const result = await engine.up("kate", { purpose: "kate", username: LOOK_ALIKE });
  expect(result).toEqual({ step: "replace", replaces: ["username"] });
  const second = engine.state.get("kate")!;
  expect(second.outputs.userId).toBe(twin.id);
  expect(second.outputs.username).toBe(LOOK_ALIKE);
  // Create before delete: the old key was revoked after the new one was made.
  expect(emulator.hasKey(first.id)).toBe(false);
  expect(emulator.hasKey(second.id)).toBe(true);

  // And back again: the look-alike to kate-bot is a replacement too.
  expect(await engine.up("kate", { purpose: "kate", username: "kate-bot" })).toEqual({
    step: "replace",
    replaces: ["username"],
  });
  expect(engine.outputs("kate").userId).toBe(kate.id);
  await engine.destroy("kate");
});

test("the same name in other letter case keeps the key, as the lookup finds the same user", async () => {
  await engine.up("case", { purpose: "case", username: "kate-bot" });
  const id = engine.state.get("case")!.id;
  expect(await engine.up("case", { purpose: "case", username: "KATE-BOT" })).toEqual({
    step: "same",
  });
  expect(engine.state.get("case")!.id).toBe(id);
  expect(await engine.up("case", { purpose: "case", username: "Kate-Bot" })).toEqual({
    step: "same",
  });
  expect(engine.state.get("case")!.id).toBe(id);
  await engine.destroy("case");
});

describe("diff alone, on stored state: the lookup's rule for each pair", () => {
  test.each([
    ["kate-bot", "kate-bot", false],
    ["kate-bot", "Kate-Bot", false],
    ["Zoë-bot", "ZOË-BOT", false],
    ["kate-bot", `${KELVIN}ate-bot`, true],
    [`${KELVIN}ate-bot`, "kate-bot", true],
    ["info-bot", "\u0130nfo-bot", true],
    ["file-bot", "\ufb01le-bot", true],
    ["kate-bot", "kate-bot2", true],
  ])("stored %j, given %j: replaced %s", async (stored, given, replaced) => {
    const outputs = { ...engine.outputs("pair"), username: stored };
    const checked = await engine.host.check(
      engine.urn("pair"),
      {},
      { purpose: "pair", username: given, __provider: engine.providerText },
    );
    const diff = await engine.host.diff(
      "apikeys-pair",
      engine.urn("pair"),
      outputs,
      checked.inputs,
    );
    expect(diff.replaces).toEqual(replaced ? ["username"] : []);
  });

  beforeAll(async () => {
    await engine.up("pair", { purpose: "pair", username: "kate-bot" });
  });
  afterAll(() => engine.destroy("pair"));
});
