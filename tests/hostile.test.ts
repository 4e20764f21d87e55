import http from "node:http";
import type { AddressInfo } from "node:net";
import { OctopusEmulator } from "../emulator/server";
import { Engine, hostEnv } from "../harness/engine";
import { forwardTo } from "./support/forward";
import type { CheckFailure } from "../harness/host";

// Hostile input through the real provider host: values of the wrong type, huge strings, control
// characters, credentials in URLs, path traversal in ids and URL syntax in usernames. Each case is
// a check failure or a correctly encoded request to the intended route, never a request anywhere
// else. A recording proxy in front of the emulator shows what went over the wire.

let emulator: OctopusEmulator;
let engine: Engine;
let recorder: Recorder;
const tally = { cases: 0, checkFailures: 0, refused: 0, encoded: 0 };
/** Every request the recorder saw, for the final sweep. */
const everything: string[] = [];
/** The request lines the provider may send: one route each, ids as single segments. */
const INTENDED = [
  /^GET \/api\/users\/me$/,
  /^GET \/api\/users\?filter=[^&]*&take=100$/,
  /^GET \/api\/users\/[^/?#]+$/,
  /^POST \/api\/users\/Users-\d+\/apikeys$/,
  /^(GET|DELETE) \/api\/users\/[^/?#]+\/apikeys\/[^/?#]+$/,
  // The server's key policy, which check reads for an owner who is not a service account.
  /^GET \/api\/authentication$/,
];
const stray = () => everything.filter((line) => !INTENDED.some((p) => p.test(line)));

interface Recorder {
  url: string;
  /** Request lines (`METHOD /path?query`) as received, since the last `take()`. */
  take(): string[];
  close(): Promise<void>;
}

/** A reverse proxy to the emulator that records each request's method and raw target. */
async function startRecorder(target: string): Promise<Recorder> {
  const { forward, close: closeUpstream } = forwardTo(target);
  let seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    everything.push(`${req.method} ${req.url}`);
    forward(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    take() {
      const taken = seen;
      seen = [];
      return taken;
    },
    async close() {
      closeUpstream();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** Runs `body`, returning what it threw (or undefined). */
async function caught(body: () => Promise<unknown>): Promise<Error | undefined> {
  try {
    await body();
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

type Props = Record<string, unknown>;

/** Check through the host, with fresh stats: it must fail, name `property`, and send nothing. */
async function expectCheckFailure(news: Props, property: string): Promise<CheckFailure[]> {
  tally.cases++;
  emulator.resetStats();
  recorder.take();
  const { failures } = await engine.host.check(
    engine.urn("hostile"),
    {},
    {
      ...news,
      __provider: engine.providerText,
    },
  );
  expect(failures.map((f) => f.property)).toContain(property);
  for (const f of failures) {
    // A reason explains; it never repeats a huge or hostile value back.
    expect(f.reason.length).toBeLessThan(400);
    expect(f.property.length).toBeLessThan(200);
  }
  expect(emulator.stats.requests).toBe(0);
  expect(recorder.take()).toEqual([]);
  tally.checkFailures++;
  return failures;
}

/** The emulator's route counts must be exactly `routes`. */
function expectRoutes(routes: Record<string, number>): void {
  expect({ ...emulator.stats.byRoute }).toEqual(routes);
}

const LOOKUP_ME = "GET /api/users/me";
const LOOKUP_ID = "GET /api/users/{id}";
const LOOKUP_NAME = "GET /api/users?filter";
const CREATE = "POST /api/users/{id}/apikeys";
const READ = "GET /api/users/{id}/apikeys/{id}";
const REVOKE = "DELETE /api/users/{id}/apikeys/{id}";

const MB = 1024 * 1024;
const PASSWORD = "hunter2-Passw0rd";

beforeAll(async () => {
  emulator = await OctopusEmulator.start();
  recorder = await startRecorder(emulator.url);
  engine = await Engine.start({
    env: hostEnv({ OCTOPUS_URL: recorder.url, OCTOPUS_API_KEY: emulator.admin.apiKey }),
  });
});
afterAll(async () => {
  console.log(
    `hostile input: ${tally.cases} cases run — ${tally.checkFailures} check failures, ${tally.refused} refused before any request, ${tally.encoded} correctly encoded requests; ${everything.length} requests seen, ${stray().length} to an unintended path`,
  );
  await engine?.close();
  await recorder?.close();
  await emulator?.close();
});

// ---- values of the wrong type ------------------------------------------------------------------

describe("values of the wrong type fail check", () => {
  const wrong: Array<[string, unknown]> = [
    ["a number", 42],
    ["a boolean", true],
    ["an object", { value: "x" }],
    ["a list", ["x"]],
    ["an empty list", []],
  ];
  const fields = ["purpose", "userId", "username", "expiresAt", "expiresIn", "rotateBefore"];
  const cases = fields.flatMap((field) =>
    wrong.map(([what, value]) => [field, what, value] as [string, string, unknown]),
  );
  test.each(cases)("%s as %s", async (field, _what, value) => {
    const base: Props = field === "purpose" ? {} : { purpose: "wrong type" };
    await expectCheckFailure({ ...base, [field]: value }, field);
  });

  const connectionCases: Array<[string, unknown, string]> = [
    ["connection as text", "https://octopus.example.com", "connection"],
    ["connection as a list", [{ address: "https://octopus.example.com" }], "connection"],
    ["connection as a number", 7, "connection"],
    ["address as a number", { address: 443 }, "connection.address"],
    ["address as an object", { address: { host: "octopus" } }, "connection.address"],
    ["address as a list", { address: ["https://a", "https://b"] }, "connection.address"],
    ["apiKey as a number", { apiKey: 12345678 }, "connection.apiKey"],
    ["apiKey as an object", { apiKey: { value: "API-X" } }, "connection.apiKey"],
    ["accessToken as a list", { accessToken: ["t"] }, "connection.accessToken"],
    ["caCertificate as an object", { caCertificate: { pem: "x" } }, "connection.caCertificate"],
    ["requestTimeout as an object", { requestTimeout: { ms: 5 } }, "connection.requestTimeout"],
    ["requestTimeout as a boolean", { requestTimeout: true }, "connection.requestTimeout"],
    ["requestTimeout negative", { requestTimeout: -1 }, "connection.requestTimeout"],
    ["allowInsecureHttp as text", { allowInsecureHttp: "yes" }, "connection.allowInsecureHttp"],
    ["allowInsecureHttp as a number", { allowInsecureHttp: 1 }, "connection.allowInsecureHttp"],
    ["an unknown connection field", { proxy: "http://evil" }, "connection.proxy"],
  ];
  test.each(connectionCases)("%s", async (_name, connection, property) => {
    await expectCheckFailure({ purpose: "wrong type", connection }, property);
  });

  test.each([
    ["rotationTriggers as text", "2026-Q4", "rotationTriggers"],
    ["rotationTriggers as a list", ["2026-Q4"], "rotationTriggers"],
    ["a rotation trigger as a number", { schedule: 4 }, "rotationTriggers.schedule"],
    ["a rotation trigger as an object", { schedule: { q: 4 } }, "rotationTriggers.schedule"],
  ])("%s", async (_name, rotationTriggers, property) => {
    await expectCheckFailure({ purpose: "wrong type", rotationTriggers }, property);
  });

  test.each(["constructor", "toString", "hasOwnProperty", "__defineGetter__"])(
    "a property named %s",
    async (name) => {
      await expectCheckFailure({ purpose: "odd names", [name]: "x" }, name);
    },
  );
});

// ---- huge strings --------------------------------------------------------------------------------

describe("huge strings fail check without being echoed", () => {
  const huge = "x".repeat(MB);
  test.each([
    ["purpose", { purpose: huge }, "purpose"],
    ["username", { purpose: "huge", username: huge }, "username"],
    ["userId", { purpose: "huge", userId: `Users-${"1".repeat(MB)}` }, "userId"],
    ["expiresAt", { purpose: "huge", expiresAt: huge }, "expiresAt"],
    ["expiresIn", { purpose: "huge", expiresIn: `${"9".repeat(MB)}d` }, "expiresIn"],
    ["rotateBefore", { purpose: "huge", rotateBefore: huge }, "rotateBefore"],
    [
      "connection.address",
      { purpose: "huge", connection: { address: `https://${"a".repeat(MB)}.example.com` } },
      "connection.address",
    ],
    [
      "connection.apiKey",
      { purpose: "huge", connection: { apiKey: `API-${"A".repeat(MB)}` } },
      "connection.apiKey",
    ],
    [
      "connection.accessToken",
      { purpose: "huge", connection: { accessToken: "t".repeat(MB) } },
      "connection.accessToken",
    ],
    ["a property name", { purpose: "huge", ["p".repeat(MB)]: 1 }, "p".repeat(MB)],
  ])("%s of 1 MB", async (_name, news, property) => {
    tally.cases++;
    emulator.resetStats();
    const { failures } = await engine.host.check(
      engine.urn("huge"),
      {},
      {
        ...news,
        __provider: engine.providerText,
      },
    );
    const failure = failures.find((f) => f.property === property);
    expect(failure).toBeDefined();
    expect(failure?.reason.length).toBeLessThan(400);
    expect(emulator.stats.requests).toBe(0);
    tally.checkFailures++;
  });
});

// ---- control characters and NUL bytes --------------------------------------------------------------

describe("control characters and NUL bytes", () => {
  test.each([
    ["NUL in purpose", { purpose: "a\u0000b" }, "purpose"],
    ["escape sequence in purpose", { purpose: "\u001b[2J\u001b[31mred" }, "purpose"],
    ["line break in purpose", { purpose: "line\nX-Injected: 1" }, "purpose"],
    ["DEL in purpose", { purpose: "del\u007f" }, "purpose"],
    ["NUL in username", { purpose: "c", username: "ci-bot\u0000" }, "username"],
    ["CRLF in username", { purpose: "c", username: "ci-bot\r\nX-Injected: 1" }, "username"],
    ["NUL in userId", { purpose: "c", userId: "Users-1\u0000" }, "userId"],
    ["tab in userId", { purpose: "c", userId: "Users-1\t" }, "userId"],
    ["NUL in expiresIn", { purpose: "c", expiresIn: "90d\u0000" }, "expiresIn"],
    ["NUL in expiresAt", { purpose: "c", expiresAt: "2099-01-01T00:00:00Z\u0000" }, "expiresAt"],
    [
      "NUL in the address",
      { purpose: "c", connection: { address: "https://octo\u0000pus.example.com" } },
      "connection.address",
    ],
    [
      "a line break inside the address",
      { purpose: "c", connection: { address: "https://octopus.example.com/\nadmin" } },
      "connection.address",
    ],
    [
      "CRLF in the API key",
      { purpose: "c", connection: { apiKey: `${"API-ABCDEFGH12345678"}\r\nX-Injected: 1` } },
      "connection.apiKey",
    ],
    [
      "CRLF in the access token",
      { purpose: "c", connection: { accessToken: "eyJ.token.sig\r\nX-Injected: 1" } },
      "connection.accessToken",
    ],
    [
      "NUL in the access token",
      { purpose: "c", connection: { accessToken: "eyJ.token\u0000.sig" } },
      "connection.accessToken",
    ],
  ])("%s fails check", async (_name, news, property) => {
    await expectCheckFailure(news, property);
  });

  test("control characters in rotation triggers are kept as data, never sent", async () => {
    tally.cases++;
    const triggers = { "a\u0000b": "c\u0000d\r\n", "\u001b[0m": "\u007f" };
    emulator.resetStats();
    recorder.take();
    await engine.up("triggers", { purpose: "triggers", rotationTriggers: triggers });
    expect(engine.outputs("triggers").rotationTriggers).toEqual(triggers);
    // The first key of the caller's own in this host: check also reads the server's key policy.
    expectRoutes({ [LOOKUP_ME]: 1, [CREATE]: 1, "GET /api/authentication": 1 });
    await engine.destroy("triggers");
    tally.encoded++;
  });
});

// ---- credentials in the server URL --------------------------------------------------------------

describe("a server URL with embedded credentials", () => {
  const addresses = () => [
    `https://user:${PASSWORD}@octopus.example.com`,
    `https://user:${encodeURIComponent(`${PASSWORD}@/#`)}@octopus.example.com`,
    `http://:${PASSWORD}@${new URL(recorder.url).host}`,
    `https://${PASSWORD}@octopus.example.com/octopus`,
    `https://user:API-${PASSWORD.toUpperCase().replace(/[^A-Z0-9]/g, "")}@octopus.example.com`,
    `https://user:${PASSWORD}@octopus.example.com?x=1`,
    `ftp://user:${PASSWORD}@octopus.example.com`,
    `https://user:${PASSWORD} with spaces@octo pus`,
  ];

  function expectNoPassword(text: string): void {
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(encodeURIComponent(PASSWORD));
    expect(text.toUpperCase()).not.toContain(PASSWORD.toUpperCase().replace(/[^A-Z0-9]/g, ""));
  }

  test("in connection.address: a check failure that does not repeat the password", async () => {
    for (const address of addresses()) {
      const failures = await expectCheckFailure(
        { purpose: "creds", connection: { address } },
        "connection.address",
      );
      expectNoPassword(JSON.stringify(failures));
    }
  });

  test("in OCTOPUS_URL: the same, and the host prints no password", async () => {
    for (const address of addresses()) {
      const other = await Engine.start({
        env: hostEnv({ OCTOPUS_URL: address, OCTOPUS_API_KEY: emulator.admin.apiKey }),
      });
      try {
        tally.cases++;
        const error = await caught(() => other.up("creds", { purpose: "creds" }));
        expect(error?.message).toMatch(/connection\.address/);
        expectNoPassword(`${error?.message}\n${error?.stack}`);
        // A create the engine would never send without check: refused the same way.
        tally.cases++;
        const created = await caught(() =>
          other.host.create(other.urn("creds"), {
            purpose: "creds",
            __provider: other.providerText,
          }),
        );
        // Named by where it came from: the address was set by OCTOPUS_URL.
        expect(created?.message).toMatch(/OCTOPUS_URL/);
        expectNoPassword(`${created?.message}`);
        expectNoPassword(other.host.output());
        tally.checkFailures++;
        tally.refused++;
      } finally {
        await other.close();
      }
    }
    expect(recorder.take()).toEqual([]);
  });

  test("in a tampered state's serverUrl: refused before any request, password not repeated", async () => {
    await engine.up("tampered-url", { purpose: "tampered url" });
    const outs = engine.outputs("tampered-url");
    const id = engine.state.get("tampered-url")?.id as string;
    const serverUrl = `http://user:${PASSWORD}@${new URL(recorder.url).host}`;
    recorder.take();
    for (const call of [
      () => engine.host.read(id, engine.urn("tampered-url"), { ...outs, serverUrl }),
      () => engine.host.delete(id, engine.urn("tampered-url"), { ...outs, serverUrl }),
    ]) {
      tally.cases++;
      const error = await caught(call);
      expect(error?.message).toMatch(/must not embed credentials/);
      expectNoPassword(`${error?.message}`);
      tally.refused++;
    }
    expect(recorder.take()).toEqual([]);
    expect(emulator.hasKey(id)).toBe(true);
    await engine.destroy("tampered-url");
    expectNoPassword(engine.host.output());
  });
});

// ---- path traversal in ids -------------------------------------------------------------------------

const TRAVERSALS = [
  "../",
  "..",
  ".",
  "..%2F",
  "..%2f..%2f",
  "%2e%2e",
  "%2E%2E%2F",
  ".%2e",
  "Users-1/../../api/users/all",
  "../../api/users/all",
  "..\\..\\api\\users\\all",
  "Users-1?take=1",
  "Users-1#fragment",
  "Users-1;x=1",
  "Users-1%00",
  "/api/users/all",
  "//evil.example.com/x",
  "http://evil.example.com/",
];

describe("path traversal in ids", () => {
  test.each(TRAVERSALS)("userId %j fails check", async (userId) => {
    await expectCheckFailure({ purpose: "traversal", userId }, "userId");
  });

  test.each(TRAVERSALS)(
    "userId %j in a create that skipped check: refused, or sent as one path segment",
    async (userId) => {
      tally.cases++;
      emulator.resetStats();
      recorder.take();
      const keysBefore = emulator.liveKeys().length;
      const error = await caught(() =>
        engine.host.create(engine.urn("traversal"), {
          purpose: "traversal",
          userId,
          __provider: engine.providerText,
        }),
      );
      expect(error).toBeDefined();
      const sent = recorder.take();
      if (sent.length === 0) {
        tally.refused++;
      } else {
        expect(sent).toEqual([`GET /api/users/${encodeURIComponent(userId)}`]);
        expectRoutes({ [LOOKUP_ID]: 1 });
        expect(error?.message).toMatch(/404/);
        tally.encoded++;
      }
      expect(emulator.liveKeys()).toHaveLength(keysBefore);
    },
  );

  describe("in a tampered state given to Read and Delete", () => {
    let outs: Props;
    let realId: string;
    let sentinels: string[];
    const userId = () => emulator.serviceAccount.id;
    beforeAll(async () => {
      await engine.up("target", { purpose: "traversal target", userId: userId() });
      outs = engine.outputs("target");
      realId = engine.state.get("target")?.id as string;
      // Keys that no tampered id may touch: the same user's, and another user's.
      sentinels = [
        realId,
        emulator.createKey(userId(), { purpose: "sentinel" }).id,
        emulator.createKey(emulator.admin.id, { purpose: "sentinel" }).id,
      ];
    });
    afterAll(async () => {
      await engine.destroy("target");
    });
    const expectSentinels = () => {
      for (const id of sentinels) expect(emulator.hasKey(id)).toBe(true);
    };

    test.each(TRAVERSALS)("key id %j", async (id) => {
      const urn = engine.urn("target");
      const props = { ...outs, apiKeyId: id };
      const intended = `/api/users/${userId()}/apikeys/${encodeURIComponent(id)}`;

      tally.cases++;
      emulator.resetStats();
      recorder.take();
      const read = await engine.host.read(id, urn, props).catch((e: Error) => e);
      let sent = recorder.take();
      if (sent.length === 0) {
        expect(read).toBeInstanceOf(Error);
        tally.refused++;
      } else {
        expect(sent).toEqual([`GET ${intended}`]);
        expectRoutes({ [READ]: 1 });
        // No such key: the resource is gone from state.
        expect(read).toMatchObject({ id: "" });
        tally.encoded++;
      }

      tally.cases++;
      emulator.resetStats();
      const deleted = await caught(() => engine.host.delete(id, urn, props));
      sent = recorder.take();
      if (sent.length === 0) {
        expect(deleted).toBeInstanceOf(Error);
        tally.refused++;
      } else {
        expect(sent).toEqual([`DELETE ${intended}`]);
        expectRoutes({ [REVOKE]: 1 });
        expect(deleted).toBeUndefined();
        tally.encoded++;
      }
      expectSentinels();
    });

    test.each(TRAVERSALS)("user id %j", async (tamperedUser) => {
      const urn = engine.urn("target");
      const props = { ...outs, userId: tamperedUser };
      const intended = `/api/users/${encodeURIComponent(tamperedUser)}/apikeys/${realId}`;
      for (const call of ["read", "delete"] as const) {
        tally.cases++;
        emulator.resetStats();
        recorder.take();
        const result = await caught(() =>
          call === "read"
            ? engine.host.read(realId, urn, props)
            : engine.host.delete(realId, urn, props),
        );
        const sent = recorder.take();
        if (sent.length === 0) {
          expect(result).toBeInstanceOf(Error);
          tally.refused++;
        } else {
          expect(sent).toEqual([`${call === "read" ? "GET" : "DELETE"} ${intended}`]);
          expectRoutes({ [call === "read" ? READ : REVOKE]: 1 });
          tally.encoded++;
        }
      }
      expectSentinels();
    });
  });
});

// ---- usernames with URL syntax -----------------------------------------------------------------------

describe("usernames with URL syntax are sent as the filter, exactly", () => {
  const USERNAMES = [
    "a&take=1&filter=admin",
    "x?y#z",
    "%2e%2e/",
    "../../api/users/all",
    "ci-bot/../admin",
    "name with spaces",
    "plus+sign=equals",
    "semi;colon,comma",
    "back\\slash",
    `quotes"'<tag>`,
    "percent%00nul",
    "a%26take%3D1",
    "[brackets]{braces}|pipe^`",
    "Zoë Ωmega 機器人",
    "emoji-🤖-bot",
    "ǅ-titlecase-İ",
  ];

  test.each(USERNAMES)("%j", async (username) => {
    const user = emulator.addUser({ username, isService: true });
    const name = `user-${tally.cases}`;
    tally.cases++;
    emulator.resetStats();
    recorder.take();
    await engine.up(name, { purpose: "odd username", username });
    const sent = recorder.take();
    expect(sent).toHaveLength(2);

    const lookup = new URL(sent[0].replace(/^GET /, ""), recorder.url);
    expect(sent[0]).toMatch(/^GET \/api\/users\?/);
    expect(lookup.pathname).toBe("/api/users");
    expect([...lookup.searchParams.keys()].sort()).toEqual(["filter", "take"]);
    expect(lookup.searchParams.getAll("filter")).toEqual([username]);
    expect(lookup.searchParams.getAll("take")).toEqual(["100"]);
    expect(sent[1]).toBe(`POST /api/users/${user.id}/apikeys`);
    expectRoutes({ [LOOKUP_NAME]: 1, [CREATE]: 1 });

    const id = engine.state.get(name)?.id as string;
    expect(engine.outputs(name)).toMatchObject({ userId: user.id, username });
    expect(emulator.liveKeys(user.id).map((k) => k.Id)).toEqual([id]);

    emulator.resetStats();
    await engine.destroy(name);
    expect(recorder.take()).toEqual([`DELETE /api/users/${user.id}/apikeys/${id}`]);
    expect(emulator.hasKey(id)).toBe(false);
    tally.encoded++;
  });

  test("a username nobody has: the lookup is exact and nothing is created", async () => {
    tally.cases++;
    emulator.resetStats();
    recorder.take();
    const error = await caught(() =>
      engine.up("nobody", { purpose: "nobody", username: "admin&filter=" }),
    );
    expect(error?.message).toMatch(/No Octopus user .* has the username "admin&filter="/);
    const sent = recorder.take();
    expect(sent).toHaveLength(1);
    expect(new URL(sent[0].slice(4), recorder.url).searchParams.getAll("filter")).toEqual([
      "admin&filter=",
    ]);
    expectRoutes({ [LOOKUP_NAME]: 1 });
    tally.encoded++;
  });
});

// ---- the sweep ---------------------------------------------------------------------------------------

test("no request of this file reached an unintended path", () => {
  expect(stray()).toEqual([]);
  expect(everything.length).toBeGreaterThan(0);
  // Dot segments never went over the wire: a server (or a proxy) would resolve them.
  expect(everything.filter((line) => /\/\.\.?(\/|$|\?)/.test(line))).toEqual([]);
});
