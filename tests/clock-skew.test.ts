import { OctopusEmulator } from "../emulator/server";
import { Engine, hostEnv } from "../harness/engine";
import { ApiKeyLifecycle } from "../provider/core/lifecycle";
import { MAX_CLOCK_SKEW_MS } from "../provider/core/rotation";
import { setClock } from "../provider/core/time";
import { actThenAnswer, HostileServer, json, route, startHostileServer } from "./support/hostile";

// The clock skew measured at create (the answer's `Created` against the provider's clock) moves
// rotation by at most a day, and only earlier: a create answer dated 400 days in the past must not
// keep a 90-day key from rotating, nor from being replaced once expired; one dated 400 days ahead
// must not rotate the key on every run. Each run is a fresh provider host at the test's "now"
// (OCTOPUS_APIKEY_FAKE_NOW), the emulator's clock moved with it; the create answers pass a
// hostile server that re-dates `Created`.

const DAY = 86_400_000;
const T0 = Date.parse("2027-01-01T00:00:00Z");
const program = (purpose: string) => ({
  purpose,
  username: "ci-bot",
  expiresIn: "90d",
  rotateBefore: "30d",
});

let emulator: OctopusEmulator;
let hostile: HostileServer;
const stored = new Map<string, Engine["state"] extends Map<string, infer R> ? R : never>();

beforeAll(async () => {
  emulator = await OctopusEmulator.start();
  hostile = await startHostileServer(emulator.url);
});
afterEach(() => hostile.clear());
afterAll(async () => {
  await hostile?.close();
  await emulator?.close();
});

/** One `pulumi` run at time `at`: a fresh host that sees the state the previous runs left. */
async function run<T>(at: number, body: (engine: Engine) => Promise<T>): Promise<T> {
  emulator.setNow(new Date(at));
  const engine = await Engine.start({
    env: hostEnv({
      OCTOPUS_URL: hostile.url,
      OCTOPUS_API_KEY: emulator.admin.apiKey,
      OCTOPUS_APIKEY_FAKE_NOW: new Date(at).toISOString(),
    }),
  });
  for (const [name, resource] of stored) engine.state.set(name, resource);
  try {
    return await body(engine);
  } finally {
    stored.clear();
    for (const [name, resource] of engine.state) stored.set(name, resource);
    await engine.close();
  }
}

/** Creates answer with `Created` moved by `offsetMs` (the key itself is as the emulator made it). */
function createdOff(offsetMs: number): void {
  hostile.use((req, res) => {
    if (!route(req, "POST", /^\/api\/users\/[^/]+\/apikeys$/)) return false;
    return actThenAnswer(emulator.url, (answer, upstream) => {
      const key = JSON.parse(upstream.body) as { Created: string };
      json(answer, { ...key, Created: new Date(Date.parse(key.Created) + offsetMs).toISOString() });
    })(req, res);
  });
}

const live = (purpose: string) => emulator.liveKeys().filter((k) => k.Purpose === purpose);

describe("a create answer dated 400 days in the past", () => {
  test("stores a skew of at most a day; the key rotates in its window", async () => {
    createdOff(-400 * DAY);
    await run(T0, (e) => e.up("past", program("past")));
    const skew = stored.get("past")!.outputs.clockSkewMs as number;
    expect(Math.abs(skew)).toBeLessThanOrEqual(MAX_CLOCK_SKEW_MS);
    hostile.clear();
    expect(await run(T0 + 59 * DAY, (e) => e.up("past", program("past")))).toEqual({
      step: "same",
    });
    expect(await run(T0 + 61 * DAY, (e) => e.up("past", program("past")))).toEqual({
      step: "replace",
      replaces: ["rotateBefore"],
    });
    expect(live("past").map((k) => k.Id)).toEqual([stored.get("past")!.id]);
    await run(T0 + 61 * DAY, (e) => e.destroy("past"));
  });

  test("once expired, refresh says so and the next up replaces it", async () => {
    createdOff(-400 * DAY);
    await run(T0, (e) => e.up("expired", program("expired")));
    hostile.clear();
    await run(T0 + 100 * DAY, async (engine) => {
      expect(await engine.refresh("expired")).toBe("kept");
      expect(engine.outputs("expired").expired).toBe(true);
      expect(await engine.up("expired", program("expired"))).toEqual({
        step: "replace",
        replaces: ["rotateBefore"],
      });
      expect(engine.outputs("expired").expired).toBe(false);
      await engine.destroy("expired");
    });
    expect(live("expired")).toEqual([]);
  });
});

test("a create answer dated 400 days ahead rotates at most a day early, not on every run", async () => {
  createdOff(400 * DAY);
  await run(T0, (e) => e.up("ahead", program("ahead")));
  expect(stored.get("ahead")!.outputs.clockSkewMs).toBeLessThanOrEqual(MAX_CLOCK_SKEW_MS);
  hostile.clear();
  expect(await run(T0 + DAY, (e) => e.up("ahead", program("ahead")))).toEqual({ step: "same" });
  expect(await run(T0 + 58.9 * DAY, (e) => e.up("ahead", program("ahead")))).toEqual({
    step: "same",
  });
  expect((await run(T0 + 59.1 * DAY, (e) => e.up("ahead", program("ahead")))).step).toBe("replace");
  await run(T0 + 59.1 * DAY, (e) => e.destroy("ahead"));
});

test("without rotateBefore time replaces no key, expired or not, as the README says; adding it does", async () => {
  const steady = { purpose: "steady", username: "ci-bot", expiresIn: "90d" };
  await run(T0, (e) => e.up("steady", steady));
  await run(T0 + 100 * DAY, async (engine) => {
    expect(await engine.up("steady", steady)).toEqual({ step: "same" });
    expect(await engine.refresh("steady")).toBe("kept");
    expect(engine.outputs("steady").expired).toBe(true);
    expect(await engine.up("steady", { ...steady, rotateBefore: "30d" })).toEqual({
      step: "replace",
      replaces: ["rotateBefore"],
    });
    await engine.destroy("steady");
  });
  expect(live("steady")).toEqual([]);
});

describe("state that already holds an implausible skew (an earlier release, or edited)", () => {
  const created = T0;
  const state = {
    stateVersion: 1,
    apiKey: "API-SKEWTESTKEY0000001",
    apiKeyId: "apikeys-skew",
    userId: "Users-2",
    username: "ci-bot",
    purpose: "skew",
    created: new Date(created).toISOString(),
    expires: new Date(created + 90 * DAY).toISOString(),
    hint: "API-SKEW",
    serverUrl: "https://octopus.example.com",
    expired: false,
    rotateAt: new Date(created + 60 * DAY).toISOString(),
    accessLevel: null,
    lastUsed: null,
    userSelector: "username",
    expiresIn: "90d",
    rotateBefore: "30d",
  };
  const inputs = {
    purpose: "skew",
    username: "ci-bot",
    expiresIn: "90d",
    rotateBefore: "30d",
    connection: { address: "https://octopus.example.com", apiKey: "API-SKEWTESTKEY0000002" },
  };
  const diff = (clockSkewMs: number) =>
    new ApiKeyLifecycle(() => []).diff(
      "apikeys-skew",
      { ...state, clockSkewMs, connection: inputs.connection },
      inputs,
    );
  afterEach(() => setClock());

  test.each([
    ["400 days behind, in the window: replaced", -400 * DAY, 61, true],
    ["400 days behind, expired: replaced", -400 * DAY, 100, true],
    ["400 days behind, before the window: kept", -400 * DAY, 59, false],
    ["400 days ahead, over a day before the window: kept", 400 * DAY, 58.9, false],
    ["400 days ahead, under a day before the window: replaced", 400 * DAY, 59.1, true],
  ])("%s", async (_name, skew, day, replaced) => {
    setClock(() => created + day * DAY);
    expect((await diff(skew)).replaces).toEqual(replaced ? ["rotateBefore"] : []);
  });
});
