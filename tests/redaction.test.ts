import { OctopusError } from "../provider/octopus/errors";
import { safeText } from "../provider/octopus/failures";
import { redact, registerSecret } from "../provider/octopus/redaction";

// Redaction of secrets from every message: a registered credential or key is caught however it was
// copied (case changed, `API-` dropped, URL-encoded), and got's or Node's text loses its query strings.

const KEY = "API-QWERTYUIOPASDFGHJKLZXCVB12";
const BODY = KEY.slice(4);
const TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaS1ib3QifQ.c2ln+YX/Rk=";

beforeAll(() => {
  registerSecret(KEY);
  registerSecret(TOKEN);
});

/** Every percent-escaped form of `text`'s characters. */
const percentEncoded = (text: string) =>
  [...text].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`).join("");

test.each([
  ["exactly", KEY],
  ["without API-", BODY],
  ["lower-cased", KEY.toLowerCase()],
  ["lower-cased without API-", BODY.toLowerCase()],
  ["mixed case", KEY.replace(/[A-Z]/g, (c, i: number) => (i % 2 ? c.toLowerCase() : c))],
  ["URL-encoded", encodeURIComponent(KEY).replace("-", "%2D")],
  ["every character percent-encoded", percentEncoded(KEY)],
  ["percent-encoded, lower-case hex", percentEncoded(BODY).toLowerCase()],
  ["in a query string", `https://octopus.example.com/api?apikey=${KEY.toLowerCase()}&x=1`],
  ["inside a longer token", `prefix${BODY}suffix`],
  ["the bearer token", TOKEN],
  ["the bearer token URL-encoded", encodeURIComponent(TOKEN)],
  ["the bearer token upper-cased", TOKEN.toUpperCase()],
])("the key %s is redacted", (_how, copy) => {
  const text = `Octopus said: invalid key ${copy} (try again)`;
  const out = redact(text);
  expect(out).toContain("[redacted]");
  expect(out.toUpperCase()).not.toContain(BODY);
  expect(decodeURIComponent(out).toUpperCase()).not.toContain(BODY);
  expect(decodeURIComponent(out).toUpperCase()).not.toContain(TOKEN.toUpperCase().slice(0, 20));
  expect(out).toMatch(/^Octopus said: invalid key /);
  expect(out).toMatch(/ \(try again\)$/);
});

test("an OctopusError redacts its message, errors and help text", () => {
  const error = new OctopusError("FORBIDDEN", `no: ${BODY.toLowerCase()}`, {
    errors: [`key ${encodeURIComponent(KEY)}`],
    helpText: `use ${KEY.toLowerCase()}`,
  });
  expect(
    `${error.message}${error.errors.join()}${error.helpText}${error.stack}`.toUpperCase(),
  ).not.toContain(BODY);
});

test("ordinary text is left alone", () => {
  const text =
    "Octopus answered GET https://octopus.example.com/api/users/Users-42/apikeys/apikeys-I6D74k9rh7eyoqXDlqJCvlsVgU with 404 Not Found";
  expect(redact(text)).toBe(text);
});

test.each([
  [
    "a URL with a query",
    'Unexpected token < in "http://127.0.0.1:1/api/users?filter=ci-bot&take=100"',
    'Unexpected token < in "http://127.0.0.1:1/api/users"',
  ],
  [
    "a URL with credentials",
    "connect to https://user:pass@octopus.example.com/x?y=1 failed",
    "connect to https://octopus.example.com/x failed",
  ],
  ["a bare query", "GET /api/users?filter=secret failed", "GET /api/users failed"],
  ["control characters", "bad\r\nX-Injected: 1\u001b[2J", "bad X-Injected: 1 [2J"],
])("got's and Node's text loses %s", (_what, text, expected) => {
  expect(safeText(text)).toBe(expected);
});

describe("after many created keys", () => {
  // Keys of two lengths, as a long run that creates thousands of keys registers them.
  const many = Array.from(
    { length: 20_000 },
    (_, i) => `API-${i % 2 ? "LONGKEY" : "K"}${String(i).padStart(8, "0")}ZXQJWV${i % 7}`,
  );
  beforeAll(() => many.forEach((key) => registerSecret(key)));

  test.each([0, 1, 9_999, 19_999])(
    "key %i is still redacted in every form the redactor handles",
    (index) => {
      const key = many[index];
      const body = key.slice(4);
      for (const copy of [
        key,
        body,
        key.toLowerCase(),
        body.toLowerCase(),
        percentEncoded(key),
        `prefix${body}suffix`,
      ]) {
        const out = redact(`invalid key ${copy} (try again)`);
        expect(decodeURIComponent(out).toUpperCase()).not.toContain(body);
        expect(out).toContain("[redacted]");
      }
    },
  );

  test("redacting a message does not compare it with every secret seen", () => {
    // A message of ordinary tokens; the old loop made 20,000 comparisons per token.
    const text = `Octopus answered GET https://octopus.example.com/api/users/Users-42/apikeys ${"ordinarywords ".repeat(50)}`;
    // The same redactor, fresh, knowing one secret of each of the two lengths.
    let few: typeof redact = redact;
    jest.isolateModules(() => {
      // A second instance of the module (and its secret registry) is only reachable by require.
      type Redaction = typeof import("../provider/octopus/redaction");
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const fresh = require("../provider/octopus/redaction") as Redaction;
      fresh.registerSecret(many[0]);
      fresh.registerSecret(many[1]);
      few = fresh.redact;
    });
    expect(few).not.toBe(redact);
    /** The fastest of several batches: the least disturbed by whatever else the machine runs. */
    const fastest = (run: typeof redact) => {
      let best = Infinity;
      for (let batch = 0; batch < 15; batch++) {
        const started = process.hrtime.bigint();
        for (let i = 0; i < 20; i++) if (run(text) !== text) throw new Error("text was changed");
        best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e6 / 20);
      }
      return best;
    };
    fastest(few);
    fastest(redact);
    const withMany = fastest(redact);
    const withFew = fastest(few);
    console.log(
      `redacting a message: ${withMany.toFixed(3)} ms knowing 20,000 secrets, ${withFew.toFixed(3)} ms knowing 2`,
    );
    // The cost follows the message, not the number of secrets: comparing every token with each of
    // 20,000 secrets costs thousands of times what comparing with 2 does. The bound is loose so
    // that a busy machine does not fail it.
    expect(withMany / withFew).toBeLessThan(10);
  });
});
