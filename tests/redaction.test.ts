import { OctopusError, redact, registerSecret } from "../provider/errors";
import { safeText } from "../provider/transport";

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
