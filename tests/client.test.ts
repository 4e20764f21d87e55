import { OctopusClient, RetryPolicy } from "../provider/octopus/client";
import { endpointFrom } from "../provider/core/connection/settings";
import { OctopusError } from "../provider/octopus/errors";
import { OctopusEmulator } from "../emulator/server";

// The Octopus client against the emulator over real HTTP: error mapping, retries, timeouts and
// answers that are not what Octopus sends.

let emulator: OctopusEmulator;
const fastRetry: Partial<RetryPolicy> = { baseDelayMs: 5, maxDelayMs: 2_000, maxTotalMs: 5_000 };

function client(
  apiKey = emulator.admin.apiKey,
  extra: Record<string, unknown> = {},
): OctopusClient {
  return new OctopusClient(endpointFrom({ address: emulator.url, apiKey, ...extra }), fastRetry);
}

async function failure(promise: Promise<unknown>): Promise<OctopusError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OctopusError);
  return error as OctopusError;
}

beforeAll(async () => {
  emulator = await OctopusEmulator.start();
});
afterEach(() => emulator.faults.clear());
afterAll(() => emulator.close());

test("finds a user by exact username, ignoring case, through the filter", async () => {
  const user = await client().findUserByUsername("CI-BOT");
  expect(user?.Id).toBe(emulator.serviceAccount.id);
  expect(await client().findUserByUsername("ci-bo")).toBeUndefined();
});

test("follows Page.Next to find a user on a later page", async () => {
  // "bot" is a partial match for all of these users; the exact one was added last.
  for (let i = 0; i < 130; i++) {
    emulator.addUser({ username: `abot-${String(i).padStart(3, "0")}` });
  }
  const wanted = emulator.addUser({ username: "Bot" });
  emulator.resetStats();
  const user = await client().findUserByUsername("bot");
  expect(user?.Id).toBe(wanted.id);
  expect(emulator.stats.byRoute["GET /api/users?filter"]).toBe(2);
  expect(emulator.stats.byRoute["GET /api/users/all"]).toBeUndefined();
});

test.each([
  [400, "VALIDATION"],
  [409, "CONFLICT"],
  [500, "SERVER_ERROR"],
])("maps a %i answer to code %s with method, path and Octopus's message", async (status, code) => {
  emulator.faults.add({ step: "lookup", kind: "status", status });
  const error = await failure(client().currentUser());
  expect(error).toMatchObject({ code, status, method: "GET", path: "/api/users/me" });
  expect(error.message).toContain(`${emulator.url}/api/users/me with ${status}`);
});

test("401: bad credentials, and the key never appears in the error", async () => {
  const secret = "API-WRONGWRONGWRONGWRONG1";
  const error = await failure(client(secret).currentUser());
  expect(error).toMatchObject({ code: "UNAUTHENTICATED", status: 401 });
  expect(error.message).toMatch(/You must be logged in/);
  expect(`${error.message}${error.stack}${JSON.stringify(error)}`).not.toContain(secret);
});

test("403: an ordinary user may not read another user", async () => {
  const error = await failure(client(emulator.user.apiKey).getUser(emulator.admin.id));
  expect(error).toMatchObject({ code: "FORBIDDEN", status: 403 });
  expect(error.message).toMatch(/permission/i);
});

test("404: unknown user", async () => {
  const error = await failure(client().getUser("Users-999999"));
  expect(error).toMatchObject({ code: "NOT_FOUND", status: 404, path: "/api/users/Users-999999" });
});

test("retries GETs on 503 and 502, then succeeds", async () => {
  emulator.faults.add({ step: "lookup", kind: "status", status: 503, count: 2 });
  emulator.faults.add({ step: "lookup", kind: "status", status: 502 });
  emulator.resetStats();
  expect((await client().currentUser()).Id).toBe(emulator.admin.id);
  expect(emulator.stats.byRoute["GET /api/users/me"]).toBe(4);
});

test("honours Retry-After on 429", async () => {
  emulator.faults.add({ step: "lookup", kind: "rateLimit", retryAfter: 1 });
  const started = Date.now();
  expect((await client().currentUser()).Id).toBe(emulator.admin.id);
  expect(Date.now() - started).toBeGreaterThanOrEqual(950);
});

test("gives up on 429 once the retry budget is spent", async () => {
  emulator.faults.add({ step: "lookup", kind: "rateLimit", retryAfter: 0, count: Infinity });
  const error = await failure(client().currentUser());
  expect(error).toMatchObject({ code: "RATE_LIMITED", status: 429 });
});

test("retries a dropped connection and a truncated body on GET", async () => {
  emulator.faults.add({ step: "lookup", kind: "dropBefore" });
  emulator.faults.add({ step: "lookup", kind: "invalidJson" });
  expect((await client().currentUser()).Id).toBe(emulator.admin.id);
});

test("retries a POST refused with 429, which Octopus did not act on", async () => {
  emulator.faults.add({ step: "create", kind: "rateLimit", retryAfter: 0 });
  emulator.resetStats();
  const key = await client().createApiKey(emulator.admin.id, { purpose: "after 429" });
  expect(emulator.hasKey(key.Id)).toBe(true);
  expect(emulator.stats.byRoute["POST /api/users/{id}/apikeys"]).toBe(2);
  expect(
    emulator.liveKeys(emulator.admin.id).filter((k) => k.Purpose === "after 429"),
  ).toHaveLength(1);
});

test("never retries a POST that may have acted (5xx)", async () => {
  emulator.faults.add({ step: "create", kind: "status", status: 503 });
  emulator.resetStats();
  const error = await failure(client().createApiKey(emulator.admin.id, { purpose: "once" }));
  expect(error.status).toBe(503);
  expect(emulator.stats.byRoute["POST /api/users/{id}/apikeys"]).toBe(1);
});

test("a request slower than the timeout fails with TIMEOUT", async () => {
  emulator.faults.add({ step: "lookup", kind: "latency", ms: 600, count: 10 });
  const error = await failure(
    new OctopusClient(
      endpointFrom({
        address: emulator.url,
        apiKey: emulator.admin.apiKey,
        requestTimeout: 200,
      }),
      { maxAttempts: 1 },
    ).currentUser(),
  );
  expect(error.code).toBe("TIMEOUT");
  expect(error.message).toMatch(/within 200 ms/);
  await emulator.idle();
});

test("an HTML page with status 200 is an error that names the URL", async () => {
  emulator.faults.add({ step: "lookup", kind: "html" });
  const error = await failure(client().currentUser());
  expect(error.code).toBe("BAD_RESPONSE");
  expect(error.message).toContain(`${emulator.url}/api/users/me`);
  expect(error.message).toMatch(/text\/html/);
});

test("a created key without its secret is an error, not a half-made key", async () => {
  emulator.faults.add({ step: "create", kind: "noApiKey" });
  const error = await failure(client().createApiKey(emulator.admin.id, { purpose: "no secret" }));
  expect(error.code).toBe("BAD_RESPONSE");
  expect(error.message).toMatch(/the new key's ApiKey is missing/);
});

test("revoking a key that is already gone reports false, not an error", async () => {
  const key = emulator.createKey(emulator.admin.id, { purpose: "gone" });
  emulator.revokeKey(key.id);
  expect(await client().revokeApiKey(emulator.admin.id, key.id)).toBe(false);
});

test("ids are encoded as one path segment, never as a path", async () => {
  emulator.resetStats();
  const error = await failure(client().getUser("../all"));
  expect(error.status).toBe(404);
  expect(emulator.stats.byRoute["GET /api/users/all"]).toBeUndefined();
});

test("works with a server hosted under a path prefix", async () => {
  const prefixed = await OctopusEmulator.start({ basePath: "/octopus" });
  try {
    const c = new OctopusClient(
      endpointFrom({ address: `${prefixed.url}/`, apiKey: prefixed.admin.apiKey }),
    );
    expect(c.serverUrl).toBe(prefixed.url);
    expect((await c.findUserByUsername("ci-bot"))?.Id).toBe(prefixed.serviceAccount.id);
  } finally {
    await prefixed.close();
  }
});
