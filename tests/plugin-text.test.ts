import { OctopusEmulator } from "../emulator/server";
import { launchPluginFor, type Plugin, pluginUrn } from "../harness/plugin";

// Server text through the resource plugin's import and getApiKeys, which return a key's purpose as
// Octopus holds it (any key's, made anywhere): import, which would store it and write it into a
// program, refuses a purpose with control or bidirectional formatting characters; getApiKeys
// lists such a key with those characters escaped (`\u202E`), and its text arguments refuse them
// as every input does. Over gRPC, against the emulator.

type Props = Record<string, unknown>;
const DAY = 86_400_000;

let emulator: OctopusEmulator;
let plugin: Plugin;

beforeAll(async () => {
  emulator = await OctopusEmulator.start();
  plugin = await launchPluginFor(emulator);
});
afterAll(async () => {
  await plugin?.close();
  await emulator?.close();
});

/** A key made in Octopus's portal (behind the API's back) with `purpose`. */
function portalKey(purpose: string) {
  return emulator.createKey(emulator.serviceAccount.id, {
    purpose,
    expires: new Date(emulator.now().getTime() + 30 * DAY),
  });
}

const getApiKeys = (args: Props) => plugin.invoke("octopusapikey:index:getApiKeys", args);

test.each([
  ["a right-to-left override", "deploy-\u202edorp", "U+202E"],
  ["a terminal escape", "CI \u001b[2J", "U+001B"],
  ["a line break", "first line\nsecond", "U+000A"],
])("import of a key whose purpose holds %s is refused, naming it", async (_name, purpose, char) => {
  const key = portalKey(purpose);
  const read = plugin.read(`${emulator.serviceAccount.id}/${key.id}`, pluginUrn("imported"));
  const error = (await read.then(
    () => undefined,
    (e: unknown) => e,
  )) as Error | undefined;
  expect(error?.message).toMatch(new RegExp(`The API key ${key.id} cannot be imported`));
  expect(error?.message).toContain(`found ${char} at character`);
  expect(error?.message).not.toMatch(/[\p{Cc}\p{Bidi_Control}]/u);
  // Nothing was done to the key.
  expect(emulator.hasKey(key.id)).toBe(true);
  emulator.revokeKey(key.id);
});

test("getApiKeys lists such a key with those characters escaped", async () => {
  const plain = portalKey("listed: plain");
  const odd = portalKey("listed: \u202eevil\u001b[2J");
  const { outputs, failures } = await getApiKeys({ username: "ci-bot", purpose: "listed:" });
  expect(failures).toEqual([]);
  const purposes = Object.fromEntries(
    (outputs.keys as Props[]).map((k) => [k.id as string, k.purpose]),
  );
  expect(purposes).toEqual({
    [plain.id]: "listed: plain",
    [odd.id]: "listed: \\u202Eevil\\u001B[2J",
  });
  emulator.revokeKey(plain.id);
  emulator.revokeKey(odd.id);
});

test.each([
  ["username", "ci-\u202ebot"],
  ["purpose", "listed\u0085"],
])("getApiKeys with %s holding a control refuses it, naming the argument", async (arg, value) => {
  const requests = emulator.stats.requests;
  const { failures } = await getApiKeys({ [arg]: value });
  expect(failures).toEqual([
    { property: arg, reason: expect.stringMatching(/found U\+[0-9A-F]{4} at character \d+/) },
  ]);
  expect(emulator.stats.requests).toBe(requests);
});
