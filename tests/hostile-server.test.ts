import * as fs from "node:fs";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { OctopusEmulator } from "../emulator/server";
import { Engine, hostEnv } from "../harness/engine";
import {
  actThenAnswer,
  Answerer,
  declaredHuge,
  deeplyNested,
  endless,
  gzipBomb,
  HostileServer,
  json,
  route,
  Written,
} from "./support/hostile";
import { HostileStack, startHostileStack } from "./support/hostile-stack";

// A hostile server in front of the emulator, through the real provider host: answers
// without end, gzip bombs, looping pages, fields of the wrong type, look-alike usernames and
// credentials echoed back. Each time the provider fails with a clear message, the host survives
// (the next operation works) and stays small, and no credential or key appears anywhere.

const MiB = 1024 * 1024;
/** What a cut-off answer may have written beyond the 4 MiB cap: buffers on both sides. */
const SLACK = 36 * MiB;
const KELVIN = "\u212A";

let stack: HostileStack | undefined;
let emulator: OctopusEmulator;
let hostile: HostileServer;
let engine: Engine;
/** Secrets of keys made during this file, for the leak sweeps. */
const secrets: string[] = [];
let counter = 0;

beforeAll(async () => {
  stack = await startHostileStack();
  ({ emulator, hostile, engine } = stack);
});
afterEach(() => hostile.clear());
afterAll(async () => {
  expectNoSecret((await stack?.close()) ?? "");
});

/** Runs `body`, returning what it threw (or undefined). */
async function caught(body: () => Promise<unknown>): Promise<Error | undefined> {
  try {
    await body();
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

/** `text` holds no copy of the admin key or a created key: any case, with or without `API-`. */
function expectNoSecret(text: string): void {
  const upper = text.toUpperCase();
  for (const secret of [emulator.admin.apiKey, ...secrets]) {
    expect(upper).not.toContain(secret.toUpperCase().replace(/^API-/, ""));
  }
}

/** The host process's peak resident memory, in MiB (Linux). */
function hostPeakMiB(): number {
  const status = fs.readFileSync(`/proc/${engine.host.pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]) / 1024;
}

/** Only requests matching `method` and `path` get `answer`. */
function on(method: string, path: RegExp, answer: Answerer): Answerer {
  return (req, res) => (route(req, method, path) ? answer(req, res) : false);
}

/** The host still works: a key is created and destroyed through it. */
async function expectHostAlive(): Promise<void> {
  const name = `alive-${counter++}`;
  await engine.up(name, { purpose: name, userId: emulator.serviceAccount.id });
  secrets.push(engine.outputs(name).apiKey as string);
  await engine.destroy(name);
}

const CREATE = /^\/api\/users\/[^/]+\/apikeys$/;
const KEY = /^\/api\/users\/[^/]+\/apikeys\/[^/]+$/;
const ME = /^\/api\/users\/me$/;

// ---- bounded answers ----------------------------------------------------------------------------

describe("answers over 4 MiB", () => {
  test("an endless answer to the user lookup: a clear failure, no create, the host survives", async () => {
    let written: Promise<Written> | undefined;
    hostile.use(
      on("GET", ME, (_req, res) => {
        written = endless(res);
        return true;
      }),
    );
    const before = hostile.requests.length;
    const error = await caught(() => engine.up("endless", { purpose: "endless" }));
    expect(error?.message).toMatch(/larger than 4 MiB/);
    expect(error?.message).toContain(`${hostile.url}/api/users/me`);
    expect(hostile.requests.slice(before)).toEqual(["GET /api/users/me"]);
    const { bytes, cutOff } = await written!;
    expect(cutOff).toBe(true);
    expect(bytes).toBeLessThan(4 * MiB + SLACK);
    // The host never held the answer: it stayed far below the 512 MiB on offer.
    expect(hostPeakMiB()).toBeLessThan(400);
    hostile.clear();
    await expectHostAlive();
  });

  test.each([
    ["the server's default expiry: the key is left and named", undefined],
    ["an explicit lifetime: the key is proven ours and revoked", "30d"],
  ])("a gzip bomb as a create's answer, %s; the host survives", async (_title, expiresIn) => {
    let written: Promise<Written> | undefined;
    let made: string | undefined;
    hostile.use(
      on(
        "POST",
        CREATE,
        actThenAnswer(emulator.url, (res, upstream) => {
          const key = JSON.parse(upstream.body) as { Id: string; ApiKey: string };
          secrets.push(key.ApiKey);
          made = key.Id;
          written = gzipBomb(res, { members: 1024 });
        }),
      ),
    );
    const name = `bombed-${counter++}`;
    const error = await caught(() =>
      engine.up(name, {
        purpose: name,
        userId: emulator.serviceAccount.id,
        ...(expiresIn ? { expiresIn } : {}),
      }),
    );
    // The key was made, and its answer lost: the provider treats that as an unknown outcome.
    expect(error?.message).toMatch(/larger than 4 MiB/);
    expect(engine.state.has(name)).toBe(false);
    expect(made).toMatch(/^apikeys-/);
    if (expiresIn === undefined) {
      // Ownership cannot be proven without an expiry marker: left alone, and named for a person.
      expect(emulator.hasKey(made!)).toBe(true);
      expect(error?.message).toContain(made!);
      emulator.revokeKey(made!);
    } else {
      expect(emulator.hasKey(made!)).toBe(false);
    }
    const { bytes, cutOff } = await written!;
    expect(cutOff).toBe(true);
    expect(bytes).toBeLessThan(SLACK);
    expect(hostPeakMiB()).toBeLessThan(400);
    expectNoSecret(`${error?.message}\n${engine.host.output()}`);
    hostile.clear();
    await expectHostAlive();
  });

  test("a declared 600 MB answer on refresh: refresh fails, the key stays in state", async () => {
    await engine.up("huge-read", { purpose: "huge read", userId: emulator.serviceAccount.id });
    secrets.push(engine.outputs("huge-read").apiKey as string);
    hostile.use(
      on("GET", KEY, (_req, res) => {
        void declaredHuge(res);
        return true;
      }),
    );
    const error = await caught(() => engine.refresh("huge-read"));
    expect(error?.message).toMatch(/larger than 4 MiB/);
    expect(engine.state.has("huge-read")).toBe(true);
    hostile.clear();
    expect(await engine.refresh("huge-read")).toBe("kept");
    await engine.destroy("huge-read");
  });
});

// ---- bounded paging -------------------------------------------------------------------------------

describe("paging that would never end", () => {
  test("a Page.Next loop in the username lookup fails after one page, nothing created", async () => {
    hostile.use(
      on("GET", /^\/api\/users$/, (req, res) => {
        json(res, {
          Items: [{ Id: "Users-900", Username: "someone-else" }],
          Links: { "Page.Next": req.url },
        });
        return true;
      }),
    );
    const before = hostile.requests.length;
    const error = await caught(() =>
      engine.up("looping", { purpose: "looping", username: "ci-bot" }),
    );
    expect(error?.message).toMatch(/Page\.Next link leads back to a page already read/);
    const sent = hostile.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent.some((line) => line.startsWith("POST"))).toBe(false);
  });

  test("links that never repeat stop at the page budget", async () => {
    let n = 0;
    hostile.use(
      on("GET", /^\/api\/users$/, (_req, res) => {
        n++;
        json(res, {
          Items: [{ Id: `Users-${900 + n}`, Username: `bot-${n}` }],
          Links: { "Page.Next": `/api/users?filter=ci-bot&skip=${n}&take=100` },
        });
        return true;
      }),
    );
    const error = await caught(() =>
      engine.up("endless-pages", { purpose: "endless pages", username: "ci-bot" }),
    );
    expect(error?.message).toMatch(/past 100 pages/);
    expect(n).toBe(100);
  });
});

// ---- answer shapes ---------------------------------------------------------------------------------

describe("answers of the wrong shape", () => {
  test("a user without Id: BAD_RESPONSE, and nothing is sent to /api/users/undefined", async () => {
    hostile.use(
      on("GET", ME, (_req, res) => {
        json(res, { Username: "admin" });
        return true;
      }),
    );
    const before = hostile.requests.length;
    const error = await caught(() => engine.up("no-id", { purpose: "no id" }));
    expect(error?.message).toMatch(/a user's Id is missing/);
    expect(hostile.requests.slice(before)).toEqual(["GET /api/users/me"]);
  });

  test("a created key whose Created is nested 10,000 deep: a clear failure, the host survives", async () => {
    hostile.use(
      on(
        "POST",
        CREATE,
        actThenAnswer(emulator.url, (res, upstream) => {
          const key = JSON.parse(upstream.body) as Record<string, unknown>;
          secrets.push(key.ApiKey as string);
          const body = JSON.stringify({ ...key, Created: "@" }).replace(
            '"Created":"@"',
            `"Created":${deeplyNested(10_000)}`,
          );
          res.writeHead(200, { "content-type": "application/json" }).end(body);
        }),
      ),
    );
    const error = await caught(() =>
      engine.up("deep", { purpose: "deep created", userId: emulator.serviceAccount.id }),
    );
    expect(error?.message).toMatch(/Created is a list/);
    expect(engine.state.has("deep")).toBe(false);
    expectNoSecret(`${error?.message}\n${engine.host.output()}`);
    hostile.clear();
    await expectHostAlive();
  });
});

// ---- usernames ------------------------------------------------------------------------------------

describe("usernames match only the named user", () => {
  test("two users whose names differ only in case: each spelling gets its own user, in one run", async () => {
    // Octopus keeps usernames unique regardless of case, so only a server listing both shows this.
    const upper = emulator.addUser({ username: "upper-case-bot", isService: true });
    const lower = emulator.addUser({ username: "lower-case-bot", isService: true });
    hostile.use(
      on("GET", /^\/api\/users$/, (_req, res) => {
        json(res, {
          Items: [
            { Id: upper.id, Username: "Deploy-Bot", IsService: true },
            { Id: lower.id, Username: "deploy-bot", IsService: true },
          ],
          TotalResults: 2,
        });
        return true;
      }),
    );
    await engine.up("upper", { purpose: "upper", username: "Deploy-Bot" });
    await engine.up("lower", { purpose: "lower", username: "deploy-bot" });
    hostile.clear();
    secrets.push(
      engine.outputs("upper").apiKey as string,
      engine.outputs("lower").apiKey as string,
    );
    expect(engine.outputs("upper").userId).toBe(upper.id);
    expect(engine.outputs("lower").userId).toBe(lower.id);
    await engine.destroy("upper");
    await engine.destroy("lower");
  });

  test("a service account named with the Kelvin sign is not kevin-bot", async () => {
    emulator.addUser({ username: `${KELVIN}evin-bot`, isService: true });
    const error = await caught(() =>
      engine.up("kevin", { purpose: "kevin", username: "kevin-bot" }),
    );
    expect(error?.message).toMatch(/No Octopus user .* has the username "kevin-bot"/);
    expect(engine.state.has("kevin")).toBe(false);
  });

  test("kate-bot finds kate-bot, not the Kelvin-sign look-alike listed first", async () => {
    const kate = emulator.addUser({ username: "kate-bot", isService: true });
    hostile.use(
      on("GET", /^\/api\/users$/, (_req, res) => {
        json(res, {
          Items: [
            { Id: "Users-990", Username: `${KELVIN}ate-bot`, IsService: true },
            { Id: kate.id, Username: "kate-bot", IsService: true },
          ],
          TotalResults: 2,
        });
        return true;
      }),
    );
    await engine.up("kate", { purpose: "kate", username: "kate-bot" });
    secrets.push(engine.outputs("kate").apiKey as string);
    expect(engine.outputs("kate").userId).toBe(kate.id);
    await engine.destroy("kate");
  });

  test("two users differing only in case: the up fails naming both, nothing created", async () => {
    hostile.use(
      on("GET", /^\/api\/users$/, (_req, res) => {
        json(res, {
          Items: [
            { Id: "Users-991", Username: "Twin-Bot", IsService: true },
            { Id: "Users-992", Username: "TWIN-BOT", IsService: true },
          ],
        });
        return true;
      }),
    );
    const before = hostile.requests.length;
    const error = await caught(() =>
      engine.up("twins", { purpose: "twins", username: "twin-bot" }),
    );
    expect(error?.message).toContain('"Twin-Bot" (Users-991)');
    expect(error?.message).toContain('"TWIN-BOT" (Users-992)');
    expect(hostile.requests.slice(before).some((l) => l.startsWith("POST"))).toBe(false);
  });
});

// ---- real answer shapes -----------------------------------------------------------------------------

describe("answers real servers give", () => {
  test.each([
    ["204 without a body", 204, {}],
    ["200 with an empty body and no content type", 200, {}],
  ])("a revoke answered %s: destroy succeeds", async (_name, status, headers) => {
    const name = `revoke-${status}`;
    await engine.up(name, { purpose: name, userId: emulator.serviceAccount.id });
    secrets.push(engine.outputs(name).apiKey as string);
    const id = engine.state.get(name)?.id as string;
    hostile.use(
      on(
        "DELETE",
        KEY,
        actThenAnswer(emulator.url, (res) => res.writeHead(status, headers).end()),
      ),
    );
    await engine.destroy(name);
    expect(engine.state.has(name)).toBe(false);
    expect(emulator.hasKey(id)).toBe(false);
  });

  test("a 403 with HelpText and a stack trace: HelpText shown, the stack trace never", async () => {
    const trace = "at Octopus.Server.Web.Controllers.UsersController.Get() in C:\\build\\x.cs";
    hostile.use(
      on("GET", ME, (_req, res) => {
        json(
          res,
          {
            ErrorMessage: "You do not have permission to perform this action.",
            HelpText: "Missing permission: UserView.",
            Details: "internal details",
            FullException: trace,
          },
          403,
        );
        return true;
      }),
    );
    const error = await caught(() => engine.up("forbidden", { purpose: "forbidden" }));
    expect(error?.message).toMatch(/Missing permission: UserView\./);
    expect(error?.message).not.toContain("UsersController");
    expect(error?.message).not.toContain("internal details");
    expect(engine.host.output()).not.toContain("UsersController");
  });

  test("a server that echoes the credential, changed and encoded: never repeated", async () => {
    const key = emulator.admin.apiKey;
    hostile.use(
      on("GET", ME, (_req, res) => {
        json(
          res,
          {
            ErrorMessage: `The key ${key.slice(4).toLowerCase()} is not valid.`,
            Errors: [`apikey=${encodeURIComponent(key).replace("-", "%2d")}`, key.toLowerCase()],
            HelpText: `Try ${key.replace(/[A-Z]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)}`,
          },
          401,
        );
        return true;
      }),
    );
    const error = await caught(() => engine.up("echo", { purpose: "echo" }));
    expect(error?.message).toMatch(/The key \[redacted\] is not valid/);
    expectNoSecret(decodeURIComponent(`${error?.message}`));
    expectNoSecret(engine.host.output());
  });
});

// ---- retries ---------------------------------------------------------------------------------------

test("a server that refuses connections: one retry, a message naming the address's source", async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const refused = await Engine.start({
    env: hostEnv({
      OCTOPUS_URL: `http://127.0.0.1:${port}`,
      OCTOPUS_API_KEY: emulator.admin.apiKey,
    }),
  });
  try {
    // The first call loads the provider and got: time the second.
    await caught(() => refused.up("warm-up", { purpose: "warm-up" }));
    const started = Date.now();
    const error = await caught(() => refused.up("refused", { purpose: "refused" }));
    const elapsed = Date.now() - started;
    expect(error?.message).toMatch(/ECONNREFUSED|ERR_SOCKET_CLOSED_BEFORE_CONNECTION/);
    // Until the provider passes `sources`, the client falls back to "connection.address".
    expect(error?.message).toMatch(/check OCTOPUS_URL and/);
    // The default policy's five retries would wait at least 3.1 s.
    expect(elapsed).toBeLessThan(3_000);
  } finally {
    await refused.close();
  }
});

// Nothing here may reach beyond loopback.
test("every request of this file went to the hostile server on 127.0.0.1", () => {
  expect(new URL(hostile.url).hostname).toBe("127.0.0.1");
  expect(hostile.requests.length).toBeGreaterThan(0);
  expect(hostile.requests.filter((l) => l.includes("undefined"))).toEqual([]);
});
