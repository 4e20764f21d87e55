import { DynamicProvider } from "../provider/dynamic/host";
import { UNKNOWN } from "../provider/core/check";
import { setClock } from "../provider/core/time";

const connection = { address: "https://octopus.example.com", apiKey: "API-CHECKTESTKEY0001" };
const valid = { purpose: "CI deployments", connection };

async function failures(news: Record<string, unknown>, olds: Record<string, unknown> = {}) {
  const result = await new DynamicProvider().lifecycle.check(olds, news);
  return result.failures ?? [];
}

const saved = { ...process.env };
beforeEach(() => {
  for (const name of Object.keys(process.env))
    if (name.startsWith("OCTOPUS_")) delete process.env[name];
  setClock(() => Date.parse("2026-06-01T00:00:00Z"));
});
afterAll(() => {
  process.env = saved;
  setClock();
});

test("accepts a minimal valid resource", async () => {
  expect(await failures(valid)).toEqual([]);
});

// Each row: inputs, the property the failure must name, and words its reason must contain.
const table: Array<[string, Record<string, unknown>, string, RegExp]> = [
  ["missing purpose", { connection }, "purpose", /required/],
  ["empty purpose", { ...valid, purpose: "  " }, "purpose", /must not be empty/],
  [
    "purpose of the wrong type",
    { ...valid, purpose: 42 },
    "purpose",
    /must be a string, not a number/,
  ],
  ["huge purpose", { ...valid, purpose: "x".repeat(5000) }, "purpose", /limit is 1000/],
  ["control characters", { ...valid, purpose: "a\nb" }, "purpose", /control characters/],
  [
    "both userId and username",
    { ...valid, userId: "Users-1", username: "bob" },
    "userId",
    /either userId or username/,
  ],
  [
    "path traversal in userId",
    { ...valid, userId: "../../api/users/all" },
    "userId",
    /Octopus user id/,
  ],
  [
    "both expiresAt and expiresIn",
    { ...valid, expiresAt: "2027-01-01T00:00:00Z", expiresIn: "90d" },
    "expiresAt",
    /either expiresAt or expiresIn/,
  ],
  ["unparsable expiresAt", { ...valid, expiresAt: "next tuesday" }, "expiresAt", /ISO 8601/],
  [
    "expiresAt without time zone",
    { ...valid, expiresAt: "2027-01-01T00:00:00" },
    "expiresAt",
    /time zone/,
  ],
  ["past expiresAt", { ...valid, expiresAt: "2026-01-01T00:00:00Z" }, "expiresAt", /in the past/],
  ["malformed duration", { ...valid, expiresIn: "90 days" }, "expiresIn", /duration such as 90d/],
  ["too short a duration", { ...valid, expiresIn: "10s" }, "expiresIn", /at least 1m/],
  [
    "rotateBefore with expiresAt",
    { ...valid, expiresAt: "2027-01-01T00:00:00Z", rotateBefore: "14d" },
    "rotateBefore",
    /cannot be used with expiresAt/,
  ],
  [
    "rotateBefore not shorter than expiresIn",
    { ...valid, expiresIn: "30d", rotateBefore: "30d" },
    "rotateBefore",
    /shorter than expiresIn/,
  ],
  ["malformed rotateBefore", { ...valid, rotateBefore: "soon" }, "rotateBefore", /duration/],
  [
    "rotationTriggers not a map",
    { ...valid, rotationTriggers: ["a"] },
    "rotationTriggers",
    /map of strings/,
  ],
  [
    "rotationTriggers value not a string",
    { ...valid, rotationTriggers: { a: 1 } },
    "rotationTriggers.a",
    /must be a string/,
  ],
  ["unknown property", { ...valid, colour: "blue" }, "colour", /not a property of OctopusApiKey/],
  [
    "unknown connection field",
    { ...valid, connection: { ...connection, password: "x" } },
    "connection.password",
    /not a connection setting/,
  ],
  [
    "malformed address",
    { ...valid, connection: { ...connection, address: "not a url" } },
    "connection.address",
    /not a valid URL/,
  ],
  [
    "non-http address",
    { ...valid, connection: { ...connection, address: "ftp://octopus.example.com" } },
    "connection.address",
    /only http and https/,
  ],
  [
    "credentials in the address",
    { ...valid, connection: { ...connection, address: "https://user:pass@octopus.example.com" } },
    "connection.address",
    /must not embed credentials/,
  ],
  [
    "plain http to a remote host",
    { ...valid, connection: { ...connection, address: "http://octopus.example.com" } },
    "connection.address",
    /unencrypted/,
  ],
  [
    "no address anywhere",
    { purpose: "p", connection: { apiKey: connection.apiKey } },
    "connection.address",
    /OCTOPUS_URL/,
  ],
  [
    "no credential anywhere",
    { purpose: "p", connection: { address: connection.address } },
    "connection.apiKey",
    /OCTOPUS_API_KEY/,
  ],
  [
    "a credential that is not an API key",
    { ...valid, connection: { ...connection, apiKey: "hunter2" } },
    "connection.apiKey",
    /not an Octopus API key/,
  ],
  [
    "bad request timeout",
    { ...valid, connection: { ...connection, requestTimeout: "forever" } },
    "connection.requestTimeout",
    /duration/,
  ],
];

test.each(table)("rejects %s, naming the property", async (_title, news, property, reason) => {
  const found = await failures(news);
  const failure = found.find((f) => f.property === property);
  expect(failure).toBeDefined();
  expect(failure?.reason).toMatch(reason);
});

test("no failure reason repeats a credential it was given", async () => {
  const secret = "API-SHOULDNEVERAPPEAR99";
  const found = await failures({
    ...valid,
    colour: 1,
    connection: { ...connection, apiKey: secret, address: "bad" },
  });
  expect(found.length).toBeGreaterThan(0);
  expect(JSON.stringify(found)).not.toContain(secret);
});

test("unknown values during preview pass", async () => {
  expect(
    await failures({
      purpose: UNKNOWN,
      userId: UNKNOWN,
      expiresIn: UNKNOWN,
      connection: { address: UNKNOWN, apiKey: UNKNOWN },
    }),
  ).toEqual([]);
  expect(await failures({ purpose: "p", connection: UNKNOWN })).toEqual([]);
});

test("takes the address and credential from the environment when not given", async () => {
  process.env.OCTOPUS_URL = "https://octopus.example.com/";
  process.env.OCTOPUS_APIKEY = "API-FROMTHEENVIRONMENT1";
  expect(await failures({ purpose: "p" })).toEqual([]);
});

test("takes them from stack config, read in configure", async () => {
  const provider = new DynamicProvider();
  const config: Record<string, string> = {
    "octopusdeploy:address": "https://octopus.example.com",
    "octopusdeploy:accessToken": "eyJhbGciOi.token.value",
  };
  await provider.configure({
    config: { get: (k: string) => config[k], require: (k: string) => config[k] },
  } as never);
  expect((await provider.lifecycle.check({}, { purpose: "p" })).failures).toEqual([]);
});

test("an unchanged expiresAt that has since passed is not a failure", async () => {
  const old = { ...valid, expiresAt: "2026-01-01T00:00:00Z" };
  expect(await failures(old, old)).toEqual([]);
});

test("plain http is allowed to loopback, or when the user opts in", async () => {
  expect(
    await failures({ ...valid, connection: { ...connection, address: "http://127.0.0.1:8080" } }),
  ).toEqual([]);
  expect(
    await failures({
      ...valid,
      connection: { ...connection, address: "http://octopus.lan", allowInsecureHttp: true },
    }),
  ).toEqual([]);
});
