import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { EmulatorOptions } from "../emulator/options";
import { OctopusEmulator } from "../emulator/server";
import { Engine, failureMessage, hostEnv } from "../harness/engine";
import { UNKNOWN } from "../harness/host";
import { asKeyPolicy } from "../provider/octopus/policy";
import { forwardTo } from "./support/forward";

// Preview knows the server's key policy (GET /api/authentication), through the real provider
// host: check refuses what Octopus would refuse at `pulumi up`, on the profiles and endpoint
// variants where it differs, and a server without the policy changes nothing. Every program names
// its server in `connection`, so one host serves every emulator here (each its own policy).

type Props = Record<string, unknown>;
const POLICY = "GET /api/authentication";

let engine: Engine;
const servers: Record<string, OctopusEmulator> = {};
const VARIANTS: Record<string, EmulatorOptions> = {
  "2025.3": { profile: "2025.3" },
  "2025.4": { profile: "2025.4" },
  "2026.3": { profile: "2026.3" },
  tuned: { maxExpiryDays: 90, defaultExpiryDays: 30 },
  "user keys off": { userApiKeysEnabled: false },
  "missing route": { authenticationEndpoint: "missing" },
  "authenticated only": { authenticationEndpoint: "authenticated", userApiKeysEnabled: false },
  "administrators only": { authenticationEndpoint: "administrators" },
  "no fields": { profile: "2025.3", userApiKeysSetting: false },
  slow: { profile: "2026.3" },
};

const program = (server: OctopusEmulator, extra: Props = {}, timeout?: string): Props => ({
  purpose: `policy ${Math.random().toString(36).slice(2, 8)}`,
  username: "ci-bot",
  connection: {
    address: server.url,
    apiKey: server.admin.apiKey,
    ...(timeout ? { requestTimeout: timeout } : {}),
  },
  ...extra,
});
const check = async (news: Props, olds: Props = {}) =>
  (
    await engine.host.check(engine.urn("checked"), olds, {
      ...news,
      __provider: engine.providerText,
    })
  ).failures;

beforeAll(async () => {
  for (const [name, options] of Object.entries(VARIANTS)) {
    servers[name] = await OctopusEmulator.start(options);
  }
  engine = await Engine.start({ env: hostEnv() });
});
afterAll(async () => {
  await engine?.close();
  for (const server of Object.values(servers)) await server.close();
});

describe.each(["2025.3", "2025.4", "2026.3"])("on Octopus %s", (profile) => {
  const limited = profile !== "2025.3";

  test(`an expiry beyond the maximum is ${limited ? "refused at check, naming it in days" : "left to the server (it has none)"}`, async () => {
    const server = servers[profile];
    server.resetStats();
    const beyond = [
      { expiresIn: "400d" },
      { expiresAt: new Date(Date.now() + 400 * 86_400_000).toISOString() },
    ];
    for (const lifetime of beyond) {
      const failures = await check(program(server, lifetime));
      const property = Object.keys(lifetime)[0];
      expect(failures).toEqual(
        limited
          ? [{ property, reason: expect.stringMatching(/maximum key lifetime of 366 days/) }]
          : [],
      );
    }
    expect(await check(program(server, { expiresIn: "366d" }))).toEqual([]);
    // Asked once for the whole run, whatever the number of checks.
    expect(server.stats.byRoute[POLICY]).toBe(1);
  });

  test(`rotateBefore not shorter than the default lifetime is ${limited ? "refused" : "left alone (keys never expire there)"}`, async () => {
    const failures = await check(program(servers[profile], { rotateBefore: "180d" }));
    expect(failures).toEqual(
      limited
        ? [
            {
              property: "rotateBefore",
              reason: expect.stringMatching(/default key lifetime of 180 days .*give expiresIn/),
            },
          ]
        : [],
    );
    expect(await check(program(servers[profile], { rotateBefore: "179d" }))).toEqual([]);
  });
});

test("the server's own settings are named, not Octopus's defaults", async () => {
  const tuned = servers.tuned;
  expect(await check(program(tuned, { expiresIn: "91d" }))).toEqual([
    { property: "expiresIn", reason: expect.stringMatching(/of 90 days .*use at most 90d/) },
  ]);
  expect(await check(program(tuned, { rotateBefore: "30d" }))).toEqual([
    { property: "rotateBefore", reason: expect.stringMatching(/default key lifetime of 30 days/) },
  ]);
});

test("at preview, a known expiry is checked though other values are not known yet; an unknown server is not asked", async () => {
  const server = servers["2025.4"];
  const given = program(server, { expiresIn: "400d", purpose: UNKNOWN, username: UNKNOWN });
  expect(await check(given)).toEqual([
    { property: "expiresIn", reason: expect.stringMatching(/366 days/) },
  ]);
  server.resetStats();
  expect(await check({ ...given, connection: UNKNOWN })).toEqual([]);
  expect(await check(program(server, { expiresIn: UNKNOWN, rotateBefore: "200d" }))).toEqual([]);
  expect(server.stats.requests).toBe(0);
});

test("an unchanged expiry is not refused again: only inputs that make a key this run are", async () => {
  const given = program(servers["2026.3"], { expiresIn: "400d" });
  expect(await check(given, given)).toEqual([]);
  expect(await check({ ...given, expiresIn: "401d" }, given)).toHaveLength(1);
});

describe("user keys turned off", () => {
  const off = () => servers["user keys off"];

  test("a key for a user who is not a service account is refused at check, naming the owner", async () => {
    const { username: _, ...mine } = program(off());
    expect(await check(mine)).toEqual([
      {
        property: "userId",
        reason: expect.stringMatching(
          /caller's own user, admin \(Users-1\), who is not a service account.*UserApiKeysEnabled is false/,
        ),
      },
    ]);
    expect(await check(program(off(), { username: "jane.doe" }))).toEqual([
      { property: "username", reason: expect.stringMatching(/jane\.doe .*not a service account/) },
    ]);
  });

  test("a service account's key passes check and is made", async () => {
    const given = program(off());
    expect(await check(given)).toEqual([]);
    await engine.up("service", given);
    expect(off().hasKey(engine.state.get("service")!.id)).toBe(true);
    await engine.destroy("service");
  });
});

describe("a server without the policy changes nothing", () => {
  test.each(["missing route", "authenticated only", "administrators only", "no fields"])(
    "%s: check passes, and Octopus's own refusal comes at up, as without this",
    async (name) => {
      const server = servers[name];
      const given = program(server, { expiresIn: "2000d" });
      expect(await check(given)).toEqual([]);
      if (name === "authenticated only") {
        // The policy (user keys off) is there for an authenticated caller: sent without the
        // credential, the request learnt nothing, so the caller's own key passes check too.
        const { username: _, ...mine } = program(server);
        expect(await check(mine)).toEqual([]);
      }
      if (name === "no fields") return; // 2025.3 has no maximum: the key would be made.
      const message = await failureMessage(engine.up(`fallback ${name}`, given));
      expect(message).toMatch(/beyond the server's maximum key lifetime/);
    },
  );

  test("a server slower than the request timeout: check gives up on it in bounded time", async () => {
    const slow = servers.slow;
    slow.faults.add({ step: "any", path: /authentication/, kind: "latency", ms: 20_000 });
    try {
      const started = Date.now();
      expect(await check(program(slow, { expiresIn: "400d" }, "1s"))).toEqual([]);
      expect(Date.now() - started).toBeLessThan(4_000);
    } finally {
      slow.faults.clear();
    }
  });
});

test("the policy is asked for without the credential; the user lookup with it", async () => {
  const server = servers["2026.3"];
  const seen: Array<{ path: string; credential: boolean }> = [];
  const { forward, close } = forwardTo(server.url);
  const proxy = http.createServer((req, res) => {
    const credential = Boolean(req.headers["x-octopus-apikey"] || req.headers.authorization);
    seen.push({ path: (req.url ?? "").split("?")[0], credential });
    forward(req, res);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  try {
    const address = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const given = program(server, { expiresIn: "400d" });
    const { username: _, ...mine } = given;
    (mine.connection as Props).address = address;
    expect(await check(mine)).toHaveLength(1);
    expect(seen).toEqual(
      expect.arrayContaining([
        { path: "/api/authentication", credential: false },
        { path: "/api/users/me", credential: true },
      ]),
    );
    expect(seen.filter((s) => s.path === "/api/authentication")).toHaveLength(1);
  } finally {
    close();
    proxy.closeAllConnections();
    await new Promise((resolve) => proxy.close(resolve));
  }
});

test("an answer is read leniently: a field in another shape is left out, never trusted", () => {
  expect(
    asKeyPolicy({
      ApiKeyDefaultExpiryDays: 180,
      ApiKeyMaxExpiryDays: 366,
      UserApiKeysEnabled: true,
    }),
  ).toEqual({ defaultExpiryDays: 180, maxExpiryDays: 366, userApiKeysEnabled: true });
  for (const odd of [0, -1, 1.5, "366", 1e9, null, { Days: 366 }, Number.NaN]) {
    expect(
      asKeyPolicy({
        ApiKeyDefaultExpiryDays: odd,
        ApiKeyMaxExpiryDays: odd,
        UserApiKeysEnabled: odd,
      }),
    ).toEqual({});
  }
  for (const answer of [null, [], "html", 42]) expect(asKeyPolicy(answer)).toEqual({});
});
