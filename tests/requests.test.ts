import { OctopusEmulator } from "../emulator/server";
import { emulatorEnv, Engine } from "../harness/engine";
import { HostCallError } from "../harness/host";

// Request counts (not times, which depend on the machine) for many keys through one real provider
// host: each key costs its POST, and the user is looked up at most once per host. Times
// are measured by `npm run bench`.

const N = 40;
const PARALLELISM = 8;

const POST = "POST /api/users/{id}/apikeys";
const DELETE = "DELETE /api/users/{id}/apikeys/{id}";
const BY_NAME = "GET /api/users?filter";
const BY_ID = "GET /api/users/{id}";
const ME = "GET /api/users/me";
const ALL = "GET /api/users/all";
const LOOKUPS = [BY_NAME, BY_ID, ME, ALL];
/** The server's key policy, which Check reads once per host for an owner who is not a service account. */
const POLICY = "GET /api/authentication";

let emulator: OctopusEmulator;
let engine: Engine | undefined;

beforeAll(async () => {
  emulator = await OctopusEmulator.start({ users: 10_000 });
});
afterEach(async () => {
  emulator.faults.clear();
  await engine?.close();
  engine = undefined;
});
afterAll(async () => {
  await emulator?.close();
});

/** A new host (so an empty lookup cache), authenticated as the emulator's administrator. */
async function startEngine(): Promise<Engine> {
  engine = await Engine.start({ env: emulatorEnv(emulator) });
  return engine;
}

/** Runs `task(0…count-1)`, at most `parallelism` at a time. */
async function pool(
  count: number,
  parallelism: number,
  task: (index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: parallelism }, worker));
}

/** Requests per route since the last reset, with the user lookups of every kind summed. */
function counts(): {
  posts: number;
  deletes: number;
  lookups: number;
  policy: number;
  total: number;
} {
  const byRoute = emulator.stats.byRoute;
  return {
    posts: byRoute[POST] ?? 0,
    deletes: byRoute[DELETE] ?? 0,
    lookups: LOOKUPS.reduce((sum, route) => sum + (byRoute[route] ?? 0), 0),
    policy: byRoute[POLICY] ?? 0,
    total: emulator.stats.requests,
  };
}

const selectors: Array<[string, () => Record<string, string>, () => string, string]> = [
  ["a username", () => ({ username: "CI-Bot" }), () => emulator.serviceAccount.id, BY_NAME],
  [
    "a userId",
    () => ({ userId: emulator.serviceAccount.id }),
    () => emulator.serviceAccount.id,
    BY_ID,
  ],
  ["the caller's own user (me)", () => ({}), () => emulator.admin.id, ME],
];

test.each(selectors)(
  `${N} keys for one user given by %s, ${PARALLELISM} at a time, cost ${N} POSTs and one lookup`,
  async (_label, selector, owner, lookupRoute) => {
    const e = await startEngine();
    const purpose = (i: number) => `requests test ${i}`;
    emulator.resetStats();
    // The lookup is held for a while, so that the first creates all arrive while it is in flight:
    // one request for all of them shows the de-duplication, not just the cache.
    emulator.faults.add({ step: "lookup", kind: "latency", ms: 300 });

    await pool(N, PARALLELISM, (i) => e.up(`key-${i}`, { purpose: purpose(i), ...selector() }));

    // The caller (an administrator) is not a service account: Check asks the server once
    // whether user keys are on (server-policy.test.ts).
    const policy = lookupRoute === ME ? 1 : 0;
    expect(counts()).toEqual({ posts: N, deletes: 0, lookups: 1, policy, total: N + 1 + policy });
    expect(emulator.stats.byRoute[lookupRoute]).toBe(1);
    expect(emulator.faults.injected.latency).toBeGreaterThanOrEqual(1);
    const userIds = new Set(Array.from({ length: N }, (_, i) => e.outputs(`key-${i}`).userId));
    expect([...userIds]).toEqual([owner()]);

    // Deletes need no lookup: the user's id is in the state.
    await pool(N, PARALLELISM, (i) => e.destroy(`key-${i}`));
    expect(counts()).toEqual({
      posts: N,
      deletes: N,
      lookups: 1,
      policy,
      total: 2 * N + 1 + policy,
    });
    expect(emulator.liveKeys(owner()).filter((k) => k.Purpose.startsWith("requests test"))).toEqual(
      [],
    );
  },
);

test("a failed lookup is not cached: the next create looks the user up again", async () => {
  const e = await startEngine();
  emulator.resetStats();
  // 500 is not retried (only 429 and 502–504 are), so this create fails.
  emulator.faults.add({ step: "lookup", kind: "status", status: 500 });

  const failure = await e
    .up("after-failure", { purpose: "after a failed lookup", username: "ci-bot" })
    .catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(HostCallError);
  expect((failure as Error).message).toMatch(/500/);
  expect(counts()).toEqual({ posts: 0, deletes: 0, lookups: 1, policy: 0, total: 1 });

  await e.up("after-failure", { purpose: "after a failed lookup", username: "ci-bot" });
  expect(counts()).toEqual({ posts: 1, deletes: 0, lookups: 2, policy: 0, total: 3 });
  expect(emulator.stats.byRoute[BY_NAME]).toBe(2);

  // Now cached: another key for the same user costs its POST only.
  await e.up("cached", { purpose: "after a failed lookup", username: "ci-bot" });
  expect(counts()).toEqual({ posts: 2, deletes: 0, lookups: 2, policy: 0, total: 4 });

  await e.destroy("after-failure");
  await e.destroy("cached");
});

test("at 10,000 users, a create by username moves kilobytes where /api/users/all moves megabytes", async () => {
  const e = await startEngine();
  emulator.resetStats();
  await e.up("bytes", { purpose: "bytes", username: "ci-bot" });
  expect(counts()).toEqual({ posts: 1, deletes: 0, lookups: 1, policy: 0, total: 2 });
  // The filtered lookup and the POST's answer, together.
  const ours = emulator.stats.bytesOut;
  await e.destroy("bytes");

  emulator.resetStats();
  const all = await fetch(`${emulator.url}/api/users/all`, {
    headers: { "X-Octopus-ApiKey": emulator.admin.apiKey },
  });
  expect(all.status).toBe(200);
  expect(((await all.json()) as unknown[]).length).toBe(10_003);
  const seedLookup = emulator.stats.bytesOut;

  expect(ours).toBeLessThan(4_096);
  expect(seedLookup).toBeGreaterThan(1_000_000);
  expect(ours * 100).toBeLessThan(seedLookup);
});
