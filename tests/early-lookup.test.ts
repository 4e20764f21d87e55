import { OctopusEmulator } from "../emulator/server";
import { UNKNOWN } from "../provider/core/check";
import { emulatorEnv, Engine } from "../harness/engine";
import { HostCallError } from "../harness/host";

// The user lookup a create needs starts at Check, through the real provider host, so the
// first key does not wait for it; Check with failures or unknown values sends nothing.

const ME = "GET /api/users/me";
const BY_NAME = "GET /api/users?filter";
const POLICY = "GET /api/authentication";

let emulator: OctopusEmulator;
let engine: Engine | undefined;

beforeAll(async () => {
  emulator = await OctopusEmulator.start();
});
afterEach(async () => {
  emulator.faults.clear();
  await engine?.close();
  engine = undefined;
});
afterAll(async () => {
  await emulator?.close();
});

async function startEngine(): Promise<Engine> {
  engine = await Engine.start({ env: emulatorEnv(emulator) });
  emulator.resetStats();
  return engine;
}

/** Waits (bounded) until the emulator has counted `route` `atLeast` times. */
async function seen(route: string, withinMs = 5_000, atLeast = 1): Promise<number> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    const count = emulator.stats.byRoute[route] ?? 0;
    if (count >= atLeast) return count;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return emulator.stats.byRoute[route] ?? 0;
}

test.each([
  ["the caller's own user", {}, ME],
  ["a username", { username: "ci-bot" }, BY_NAME],
])(
  "for %s, Check of a new resource starts the lookup, and Create reuses it",
  async (_label, selector, route) => {
    const e = await startEngine();
    const news = { purpose: "early lookup", ...selector, __provider: e.providerText };
    const checked = await e.host.check(e.urn("early"), {}, news);
    expect(checked.failures).toEqual([]);
    // Sent after Check and before any Create. The caller (an administrator) is not a service
    // account, so Check also asks the server whether user keys are on (server-policy.test.ts).
    expect(await seen(route)).toBe(1);
    const policy = route === ME ? 1 : 0;
    expect(emulator.stats.byRoute[POLICY] ?? 0).toBe(policy);
    expect(emulator.stats.requests).toBe(1 + policy);

    const created = await e.host.create(e.urn("early"), checked.inputs);
    expect(emulator.stats.byRoute[route]).toBe(1);
    expect(emulator.stats.requests).toBe(2 + policy);
    await e.host.delete(created.id, e.urn("early"), created.properties);
  },
);

test("Check with failures, or with unknown values (preview), sends nothing", async () => {
  const e = await startEngine();
  const cases: Array<Record<string, unknown>> = [
    { purpose: "" },
    { purpose: "bad expiry", expiresIn: "soon" },
    { purpose: UNKNOWN },
    { purpose: "unknown user", username: UNKNOWN },
    { purpose: "unknown trigger", rotationTriggers: { schedule: UNKNOWN } },
  ];
  for (const [index, inputs] of cases.entries()) {
    await e.host.check(e.urn(`quiet-${index}`), {}, { ...inputs, __provider: e.providerText });
  }
  // Long enough for a lookup started by any of them to reach the emulator.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(emulator.stats.requests).toBe(0);
});

test("Check of an existing resource (an update) sends nothing", async () => {
  const e = await startEngine();
  const olds = { purpose: "existing", __provider: e.providerText };
  await e.host.check(e.urn("existing"), olds, { ...olds, purpose: "existing, renamed" });
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(emulator.stats.requests).toBe(0);
});

test("a failed early lookup is reported by the create, without asking again, and not kept", async () => {
  const e = await startEngine();
  const injected = emulator.faults.injected.status ?? 0;
  // 500 is not retried: the lookup Check starts fails.
  emulator.faults.add({ step: "lookup", kind: "status", status: 500 });
  const news = { purpose: "after a failed early lookup", __provider: e.providerText };
  const checked = await e.host.check(e.urn("retry"), {}, news);
  expect(await seen(ME)).toBe(1);
  expect(emulator.faults.injected.status).toBe(injected + 1);
  // Let the failure land before the create, so the create cannot simply share the request.
  await new Promise((resolve) => setTimeout(resolve, 200));

  const failure = await e.host.create(e.urn("retry"), checked.inputs).catch((error) => error);
  expect(failure).toBeInstanceOf(HostCallError);
  expect((failure as Error).message).toMatch(/500/);
  expect(emulator.stats.requests).toBe(1);

  // Not kept: the next check looks again, and its create uses that answer.
  const again = await e.host.check(e.urn("retry"), {}, news);
  expect(await seen(ME, 5_000, 2)).toBe(2);
  const created = await e.host.create(e.urn("retry"), again.inputs);
  expect(emulator.stats.byRoute[ME]).toBe(2);
  // Once the lookup answers, Check also asks whether user keys are on (the caller is no service
  // account); the failed lookup left nothing to ask that about.
  expect(emulator.stats.byRoute[POLICY]).toBe(1);
  expect(emulator.stats.requests).toBe(4);
  expect(created.properties.userId).toBe(emulator.admin.id);
  await e.host.delete(created.id, e.urn("retry"), created.properties);
});
