import { OctopusEmulator } from "../emulator/server";
import { Engine, failureMessage } from "../harness/engine";
import { actThenAnswer, Answerer, HostileServer, json, route } from "./support/hostile";
import { HostileStack, startHostileStack } from "./support/hostile-stack";

// Text from a server is never stored or shown raw, through the real provider host: a username or
// a hint holding terminal escapes, C1 controls or bidirectional overrides is BAD_RESPONSE (they
// are stored in state and shown in messages); a timestamp must be ISO 8601 with a time zone,
// though `Date.parse` takes `Jan 1 2026 (…)`; Octopus's error text is shown with such characters
// turned into spaces; a key's Purpose, only compared, is read as given.

const ESC = "\u001b";
/** Characters that must reach no output and no message. */
const CONTROLS = /[\p{Cc}\p{Bidi_Control}]/u;

let stack: HostileStack | undefined;
let emulator: OctopusEmulator;
let hostile: HostileServer;
let engine: Engine;

beforeAll(async () => {
  stack = await startHostileStack();
  ({ emulator, hostile, engine } = stack);
});
afterEach(() => hostile.clear());
afterAll(async () => {
  const output = (await stack?.close()) ?? "";
  // Nothing of what the hostile answers held reached the host's output either.
  expect(output).not.toContain(`${ESC}[2J`);
  expect(output).not.toMatch(/[\u202a-\u202e\u2066-\u2069\u0080-\u009f]/);
});

/** Only requests matching `method` and `path` get `answer`. */
function on(method: string, path: RegExp, answer: Answerer): Answerer {
  return (req, res) => (route(req, method, path) ? answer(req, res) : false);
}

const ME = /^\/api\/users\/me$/;
const USER = /^\/api\/users\/Users-\d+$/;
const KEY = /^\/api\/users\/[^/]+\/apikeys\/[^/]+$/;

/** Requests since `before` that would have made a key. */
const posts = (before: number) => hostile.requests.slice(before).filter((l) => /^POST/.test(l));

describe("a username that holds controls is BAD_RESPONSE: it would be stored and shown", () => {
  test.each([
    ["terminal escapes", `admin${ESC}[2J${ESC}[31m`],
    ["a C1 CSI (U+009B)", "admin\u009b2J"],
    ["a C1 next line (U+0085)", "admin\u0085"],
    ["a right-to-left override (U+202E)", "\u202eadmin"],
    ["a right-to-left isolate (U+2067)", "ad\u2067min\u2069"],
    ["a right-to-left mark (U+200F)", "admin\u200f"],
  ])("the caller's own user with %s", async (_name, username) => {
    hostile.use(
      on("GET", ME, (_req, res) => {
        json(res, { Id: emulator.admin.id, Username: username, IsService: false });
        return true;
      }),
    );
    const before = hostile.requests.length;
    const message = await failureMessage(engine.up("me", { purpose: "me" }));
    expect(message).toMatch(
      /a user's Username is a string of \d+ characters, not a username without control characters or bidirectional formatting characters/,
    );
    expect(message).not.toMatch(CONTROLS);
    expect(posts(before)).toEqual([]);
    expect(engine.state.has("me")).toBe(false);
  });

  test("a user looked up by id, the same", async () => {
    hostile.use(
      on("GET", USER, (_req, res) => {
        json(res, { Id: emulator.serviceAccount.id, Username: `ci-bot${ESC}]0;owned${ESC}\\` });
        return true;
      }),
    );
    const before = hostile.requests.length;
    const program = { purpose: "by id", userId: emulator.serviceAccount.id };
    const message = await failureMessage(engine.up("by-id", program));
    expect(message).toMatch(/Username is a string of \d+ characters, not a username without/);
    expect(message).not.toMatch(CONTROLS);
    expect(posts(before)).toEqual([]);
  });
});

describe("a key read on refresh", () => {
  /** Answers the key's GET with what the emulator says, `change`d. */
  function refreshAnswers(change: Record<string, unknown>): void {
    hostile.use(
      on(
        "GET",
        KEY,
        actThenAnswer(emulator.url, (res, upstream) => {
          json(res, { ...(JSON.parse(upstream.body) as object), ...change });
        }),
      ),
    );
  }

  let outputs: Record<string, unknown>;
  beforeAll(async () => {
    await engine.up("key", { purpose: "refreshed", userId: emulator.serviceAccount.id });
    outputs = engine.outputs("key");
  });
  afterAll(() => engine.destroy("key"));

  test.each([
    ["Created that Date.parse takes, with escapes", { Created: `Jan 1 2026 (${ESC}[2J)` }],
    ["Created as an HTTP date", { Created: "Thu, 01 Jan 2026 00:00:00 GMT" }],
    ["Created without a time zone", { Created: "2026-01-01T00:00:00" }],
    ["Created on a day February lacks", { Created: "2026-02-30T00:00:00Z" }],
    ["Expires with text after it", { Expires: "2030-01-01T00:00:00Z (\u202eevil)" }],
    ["LastUsedTimeStamp in words", { LastUsedTimeStamp: "1 January 2026 12:00" }],
  ])("%s: BAD_RESPONSE, the state keeps what it had", async (_name, change) => {
    refreshAnswers(change);
    const message = await failureMessage(engine.refresh("key"));
    const field = Object.keys(change)[0];
    expect(message).toMatch(
      new RegExp(`a key's ${field} is a string of \\d+ characters, not an ISO 8601 timestamp`),
    );
    expect(message).not.toMatch(CONTROLS);
    expect(engine.outputs("key")).toEqual(outputs);
  });

  test.each([
    ["terminal escapes", `API-${ESC}[2J`],
    ["a bidirectional override", "API-\u202eDCBA"],
  ])("a hint with %s: BAD_RESPONSE, the state keeps what it had", async (_name, hint) => {
    refreshAnswers({ ApiKey: { HasValue: true, Hint: hint } });
    const message = await failureMessage(engine.refresh("key"));
    expect(message).toMatch(/a key's Hint is a string of \d+ characters, not a hint without/);
    expect(message).not.toMatch(CONTROLS);
    expect(engine.outputs("key")).toEqual(outputs);
  });

  test("a Purpose with line breaks is read as given: compared, never stored or shown", async () => {
    refreshAnswers({ Purpose: "refreshed\r\nsecond line\u202e" });
    expect(await engine.refresh("key")).toBe("kept");
    expect(engine.outputs("key").purpose).toBe("refreshed");
  });
});

test("Octopus's error text is shown with controls and overrides turned into spaces", async () => {
  hostile.use(
    on("GET", ME, (_req, res) => {
      json(
        res,
        {
          ErrorMessage: `You do not have permission${ESC}[2J.\u0085Next line`,
          Errors: ["Missing \u202eNoissimrep\u202c UserView"],
          HelpText: "Ask\u2067 an administrator\u2069\u200f.",
        },
        403,
      );
      return true;
    }),
  );
  const message = await failureMessage(engine.up("forbidden", { purpose: "forbidden" }));
  expect(message).toMatch(/You do not have permission \[2J\. Next line/);
  expect(message).toMatch(/Missing +Noissimrep +UserView/);
  expect(message).toMatch(/Ask +an administrator +\./);
  expect(message).not.toMatch(CONTROLS);
});
