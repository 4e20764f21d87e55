import { OctopusEmulator } from "../emulator/server";
import { emulatorEnv, Engine } from "../harness/engine";

// Text inputs refuse what the server's answers are refused for (provider/octopus/text.ts): control
// characters — C0 and DEL as before, and C1 (U+0080–U+009F: U+0085 is a line break to some
// programs, U+009B a terminal's CSI) — and bidirectional formatting characters, which reorder how
// the text around them is shown, so that "deploy-prod" in Octopus's list may not be what was
// written. Through the real provider host's Check; nothing is sent for a refused resource.

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

async function check(news: Record<string, unknown>) {
  return engine.host.check(engine.urn("text"), {}, { ...news, __provider: engine.providerText });
}

describe("refused at check, naming the property, the character and the fix", () => {
  test.each([
    ["purpose", "C1 next line (U+0085)", "CI\u0085deploys", "U+0085", 3],
    ["purpose", "C1 CSI (U+009B)", "CI \u009b2J", "U+009B", 4],
    ["purpose", "C1 padding (U+0080)", "\u0080CI", "U+0080", 1],
    ["purpose", "right-to-left override (U+202E)", "deploy-\u202edorp", "U+202E", 8],
    ["purpose", "left-to-right embedding (U+202A)", "\u202aCI", "U+202A", 1],
    ["purpose", "pop directional formatting (U+202C)", "CI\u202c", "U+202C", 3],
    ["purpose", "right-to-left isolate (U+2067)", "CI \u2067x\u2069", "U+2067", 4],
    ["purpose", "first strong isolate (U+2068)", "\u2068CI", "U+2068", 1],
    ["purpose", "pop directional isolate (U+2069)", "CI\u2069", "U+2069", 3],
    ["purpose", "left-to-right mark (U+200E)", "CI\u200e", "U+200E", 3],
    ["purpose", "right-to-left mark (U+200F)", "CI\u200f", "U+200F", 3],
    ["purpose", "Arabic letter mark (U+061C)", "CI\u061c", "U+061C", 3],
    ["purpose", "an emoji before the override", "🚀\u202eCI", "U+202E", 2],
    ["username", "right-to-left override (U+202E)", "ci-\u202etob", "U+202E", 4],
    ["username", "C1 CSI (U+009B)", "ci-bot\u009b", "U+009B", 7],
    ["expiresIn", "right-to-left mark (U+200F)", "90d\u200f", "U+200F", 4],
    ["rotateBefore", "C1 next line (U+0085)", "30d\u0085", "U+0085", 4],
  ])("%s: %s", async (property, _name, value, char, at) => {
    const news: Record<string, unknown> = { purpose: "CI", [property]: value };
    if (property === "rotateBefore") news.expiresIn = "90d";
    const { failures } = await check(news);
    expect(failures).toEqual([
      {
        property,
        reason: expect.stringContaining(
          `must not contain control characters (such as line breaks, tabs, terminal escapes or U+0080–U+009F) or bidirectional formatting characters`,
        ) as string,
      },
    ]);
    expect(failures[0].reason).toContain(`found ${char} at character ${at}: remove it`);
    // The reason names the character; it never carries it.
    expect(failures[0].reason).not.toMatch(/[\p{Cc}\p{Bidi_Control}]/u);
  });

  test("connection.address with an override in its path", async () => {
    const { failures } = await check({
      purpose: "CI",
      connection: { address: "https://octopus.example.com/\u202eipa", apiKey: "API-ABCDEFGH1234" },
    });
    expect(failures).toEqual([
      {
        property: "connection.address",
        reason: expect.stringContaining("found U+202E at character 29: remove it") as string,
      },
    ]);
  });

  test("C0 controls are still refused, with the same message", async () => {
    const { failures } = await check({ purpose: "line\nbreak" });
    expect(failures).toEqual([
      { property: "purpose", reason: expect.stringContaining("found U+000A at character 5") },
    ]);
  });
});

describe("text in any script, emoji and joiners pass", () => {
  test.each([
    ["Cyrillic", "Развёртывание CI"],
    ["Hebrew", "פריסה אוטומטית"],
    ["Arabic", "النشر التلقائي"],
    ["an emoji with zero-width joiners", "👩‍💻 deploys"],
    ["Persian with a zero-width non-joiner", "می‌خواهم"],
    ["a no-break space", "CI\u00a0deploys"],
  ])("%s", async (_name, purpose) => {
    expect((await check({ purpose })).failures).toEqual([]);
  });
});
