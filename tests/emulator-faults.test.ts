import { Agent, request as httpRequest } from "node:http";
import { OctopusEmulator, type EmulatorOptions } from "../emulator/server";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

let emu: OctopusEmulator;

async function start(options: EmulatorOptions = {}): Promise<OctopusEmulator> {
  emu = await OctopusEmulator.start({ seed: 7, ...options });
  return emu;
}

afterEach(async () => {
  await emu?.close();
});

async function call(
  method: string,
  path: string,
  o: { key?: string; body?: unknown; signal?: AbortSignal } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { "X-Octopus-ApiKey": o.key ?? emu.admin.apiKey };
  const body = o.body === undefined ? undefined : JSON.stringify(o.body);
  const res = await fetch(`${emu.url}${path}`, { method, headers, body, signal: o.signal });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const createForBot = (o: { signal?: AbortSignal } = {}): Promise<Reply> =>
  call("POST", `/api/users/${emu.serviceAccount.id}/apikeys`, { body: { Purpose: "ci" }, ...o });
const botKeys = (): number => emu.liveKeys(emu.serviceAccount.id).length;

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

describe("fault kinds", () => {
  beforeEach(() => start());

  test("status answers 503 with an Octopus error body and does not process the request", async () => {
    emu.faults.add({ step: "create", kind: "status" });
    const res = await createForBot();
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(JSON.parse(res.text)).toMatchObject({
      ErrorMessage: expect.any(String),
      Errors: expect.any(Array),
    });
    expect(botKeys()).toBe(1);
    expect((await createForBot()).status).toBe(200);
    expect(emu.faults.injected).toEqual({ status: 1 });
  });

  test("status 502 looks like a proxy's HTML error page", async () => {
    emu.faults.add({ step: "lookup", kind: "status", status: 502 });
    const res = await call("GET", "/api/users/me");
    expect(res.status).toBe(502);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.text).toContain("502 Bad Gateway");
  });

  test("injected 4xx statuses carry the body Octopus would send", async () => {
    emu.faults.add({ step: "read", kind: "status", status: 404 });
    emu.faults.add({ step: "lookup", kind: "status", status: 401 });
    const missing = await call("GET", `/api/users/${emu.admin.id}/apikeys/apikeys-x`);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text).ErrorMessage).toBe("The resource you requested was not found.");
    const unauthenticated = await call("GET", "/api/users/me");
    expect(unauthenticated.status).toBe(401);
    expect(JSON.parse(unauthenticated.text).ErrorMessage).toMatch(/^You must be logged in/);
  });

  test("rateLimit answers 429 with Retry-After and does not process the request", async () => {
    emu.faults.add({ step: "create", kind: "rateLimit", retryAfter: 7 });
    const res = await createForBot();
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(JSON.parse(res.text).ErrorMessage).toMatch(/too many requests/i);
    expect(botKeys()).toBe(1);
  });

  test("dropBefore destroys the socket and nothing happens", async () => {
    emu.faults.add({ step: "create", kind: "dropBefore" });
    await expect(createForBot()).rejects.toThrow();
    await emu.idle();
    expect(botKeys()).toBe(1);
    expect((await createForBot()).status).toBe(200);
    expect(botKeys()).toBe(2);
  });

  test("dropAfter creates the key but the client only sees a socket error", async () => {
    emu.faults.add({ step: "create", kind: "dropAfter" });
    await expect(createForBot()).rejects.toThrow();
    await emu.idle();
    expect(botKeys()).toBe(2);
    expect(emu.liveKeys(emu.serviceAccount.id)[0].Purpose).toBe("ci");
  });

  test("html answers 200 with a login page instead of JSON and does not process", async () => {
    emu.faults.add({ step: "create", kind: "html" });
    const res = await createForBot();
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.text).toMatch(/<html[\s\S]*Sign in/);
    expect(() => JSON.parse(res.text)).toThrow();
    expect(botKeys()).toBe(1);
  });

  test("invalidJson processes, then answers 200 JSON that does not parse", async () => {
    emu.faults.add({ step: "create", kind: "invalidJson" });
    const res = await createForBot();
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(res.text.length).toBeGreaterThan(0);
    expect(() => JSON.parse(res.text)).toThrow(SyntaxError);
    expect(botKeys()).toBe(2);
  });

  test("noApiKey creates the key but the answer lacks ApiKey; it only fires on creation", async () => {
    emu.faults.add({ kind: "noApiKey" });
    expect((await call("GET", "/api/users/me")).status).toBe(200);
    expect(emu.faults.total()).toBe(0);
    const res = await createForBot();
    expect(res.status).toBe(200);
    const body: Json = JSON.parse(res.text);
    expect(body.ApiKey).toBeUndefined();
    expect(body.Id).toMatch(/^apikeys-/);
    expect(emu.hasKey(body.Id)).toBe(true);
    expect(emu.faults.injected).toEqual({ noApiKey: 1 });
  });

  test("latency delays the answer, then processes normally", async () => {
    emu.faults.add({ step: "lookup", kind: "latency", ms: 150 });
    const slow = await timed(() => call("GET", "/api/users/me"));
    expect(slow.value.status).toBe(200);
    expect(slow.ms).toBeGreaterThanOrEqual(140);
    const fast = await timed(() => call("GET", "/api/users/me"));
    expect(fast.ms).toBeLessThan(140);
  });

  test("a latency-delayed request is still processed after its client gave up, and idle() waits for it", async () => {
    emu.faults.add({ step: "create", kind: "latency", ms: 200 });
    const delayed = emu.faults.injected.latency ?? 0;
    const controller = new AbortController();
    const pending = createForBot({ signal: controller.signal });
    // Give up once the emulator holds the request (its delay has begun), however busy the machine.
    while ((emu.faults.injected.latency ?? 0) === delayed)
      await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await expect(pending).rejects.toThrow();
    expect(botKeys()).toBe(1);
    await emu.idle();
    expect(botKeys()).toBe(2);
  });
});

describe("fault matching", () => {
  beforeEach(() => start());

  test("rules match by method and by path (after the base path, without the query)", async () => {
    emu.faults.add({ method: "post", path: /\/apikeys$/, kind: "status", status: 500 });
    expect((await call("GET", `/api/users/${emu.serviceAccount.id}/apikeys?take=1`)).status).toBe(
      200,
    );
    expect((await createForBot()).status).toBe(500);
    expect((await createForBot()).status).toBe(200);
  });

  test("rules fire count times, in the order they were added", async () => {
    emu.faults.add({ step: "lookup", kind: "status", status: 500, count: 2 });
    emu.faults.add({ step: "lookup", kind: "rateLimit" });
    emu.faults.add({ step: "root", kind: "html" });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await call("GET", "/api/users/me")).status);
    expect(statuses).toEqual([500, 500, 429, 200]);
    expect((await call("GET", "/api")).headers.get("content-type")).toMatch(/^text\/html/);
    expect(emu.faults.injected).toEqual({ status: 2, rateLimit: 1, html: 1 });
    expect(emu.faults.total()).toBe(4);
  });

  test("count: Infinity keeps firing until clear(), which keeps the counts", async () => {
    emu.faults.add({ step: "any", kind: "status", count: Infinity });
    for (let i = 0; i < 5; i++) expect((await call("GET", "/api")).status).toBe(503);
    emu.faults.clear();
    expect((await call("GET", "/api")).status).toBe(200);
    expect(emu.faults.injected.status).toBe(5);
  });

  test("a rule restricted to one step leaves the others alone", async () => {
    emu.faults.add({ step: "revoke", kind: "status", count: Infinity });
    const created = await createForBot();
    expect(created.status).toBe(200);
    const { Id } = JSON.parse(created.text);
    const path = `/api/users/${emu.serviceAccount.id}/apikeys/${Id}`;
    expect((await call("GET", path)).status).toBe(200);
    expect((await call("DELETE", path)).status).toBe(503);
    expect(emu.hasKey(Id)).toBe(true);
  });

  test("unknown kinds and steps are rejected when added", () => {
    expect(() => emu.faults.add({ kind: "explode" as never })).toThrow(/Unknown fault kind/);
    expect(() => emu.faults.add({ step: "nope" as never, kind: "status" })).toThrow(
      /Unknown fault step/,
    );
    expect(() => emu.faults.random({ rate: 2, kinds: ["status"] })).toThrow(/rate/);
  });
});

describe("random faults", () => {
  async function run(seed: number, n: number): Promise<number[]> {
    emu.faults.random({ rate: 0.5, kinds: ["status", "rateLimit"], seed });
    const statuses: number[] = [];
    for (let i = 0; i < n; i++) statuses.push((await call("GET", "/api/users/me")).status);
    return statuses;
  }

  test("the same seed gives the same faults; injected counts what happened", async () => {
    await start();
    const first = await run(123, 40);
    expect(first).toContain(200);
    expect(first.some((s) => s !== 200)).toBe(true);
    expect(first.filter((s) => s !== 200).every((s) => [429, 502, 503, 504].includes(s))).toBe(
      true,
    );
    expect(emu.faults.total()).toBe(first.filter((s) => s !== 200).length);
    await emu.close();

    await start();
    expect(await run(123, 40)).toEqual(first);
    await emu.close();

    await start();
    expect(await run(124, 40)).not.toEqual(first);
  });

  test("rate 0 never fires; steps restrict which requests may fail", async () => {
    await start();
    emu.faults.random({ rate: 0, kinds: ["dropBefore"] });
    for (let i = 0; i < 10; i++) expect((await call("GET", "/api/users/me")).status).toBe(200);
    emu.faults.random({ rate: 1, kinds: ["status"], steps: ["create"] });
    expect((await call("GET", "/api/users/me")).status).toBe(200);
    expect([502, 503, 504]).toContain((await createForBot()).status);
    expect(emu.faults.total()).toBe(1);
  });

  test("random latency uses the given ms; noApiKey only lands on creations", async () => {
    await start();
    emu.faults.random({ rate: 1, kinds: ["latency"], ms: 120 });
    const slow = await timed(() => call("GET", "/api/users/me"));
    expect(slow.value.status).toBe(200);
    expect(slow.ms).toBeGreaterThanOrEqual(110);

    emu.faults.random({ rate: 1, kinds: ["noApiKey"] });
    expect((await call("GET", "/api/users/me")).status).toBe(200);
    const created = JSON.parse((await createForBot()).text);
    expect(created.ApiKey).toBeUndefined();
    expect(emu.faults.injected).toEqual({ latency: 1, noApiKey: 1 });
  });

  test("rules take precedence over random mode", async () => {
    await start();
    emu.faults.random({ rate: 1, kinds: ["status"] });
    emu.faults.add({ step: "lookup", kind: "rateLimit" });
    expect((await call("GET", "/api/users/me")).status).toBe(429);
    expect((await call("GET", "/api/users/me")).status).not.toBe(200);
  });
});

describe("latency, idle and close", () => {
  test("latencyMs delays every request", async () => {
    await start({ latencyMs: 80 });
    for (const path of ["/api", "/api/users/me"]) {
      const { value, ms } = await timed(() => call("GET", path));
      expect(value.status).toBe(200);
      expect(ms).toBeGreaterThanOrEqual(75);
    }
  });

  test("idle() resolves at once when nothing is in flight", async () => {
    await start();
    await call("GET", "/api");
    let resolved = false;
    await emu.idle().then(() => (resolved = true));
    expect(resolved).toBe(true);
  });

  test("close() ends kept-alive sockets and cuts pending delays short", async () => {
    await start();
    const agent = new Agent({ keepAlive: true });
    const get = (path: string): Promise<{ status: number; reused: boolean }> =>
      new Promise((resolve, reject) => {
        const req = httpRequest(`${emu.url}${path}`, { agent }, (res) => {
          res.resume();
          res.on("end", () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
        });
        req.on("error", reject);
        req.end();
      });
    expect((await get("/api")).status).toBe(200);
    expect((await get("/api")).reused).toBe(true);

    emu.faults.add({ step: "root", kind: "latency", ms: 30_000 });
    const stuck = get("/api").catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 20));
    const { ms } = await timed(() => emu.close());
    expect(ms).toBeLessThan(2000);
    // The client sees its connection reset, not an answer (node's errors come from another realm).
    expect(await stuck).toHaveProperty("code", "ECONNRESET");
    agent.destroy();
  });
});

describe("stats", () => {
  test("counts requests by route and the bytes of bodies in and out", async () => {
    await start();
    emu.resetStats();
    let out = 0;
    const track = async (method: string, path: string, body?: unknown): Promise<Json> => {
      const res = await call(method, path, { body });
      out += Buffer.byteLength(res.text);
      return res.text ? JSON.parse(res.text) : undefined;
    };
    const bot = emu.serviceAccount.id;
    await track("GET", "/api");
    await track("GET", "/api/users/me");
    await track("GET", `/api/users/${bot}`);
    await track("GET", "/api/users?filter=ci-bot");
    await track("GET", "/api/users");
    await track("GET", "/api/users/all");
    await track("GET", `/api/users/${bot}/apikeys`);
    const created = await track("POST", `/api/users/${bot}/apikeys`, { Purpose: "stats" });
    await track("GET", `/api/users/${bot}/apikeys/${created.Id}`);
    await track("DELETE", `/api/users/${bot}/apikeys/${created.Id}`);
    await track("GET", "/api/nothing-here");

    expect(emu.stats.requests).toBe(11);
    expect(emu.stats.byRoute).toEqual({
      "GET /api": 1,
      "GET /api/users/me": 1,
      "GET /api/users/{id}": 1,
      "GET /api/users?filter": 2,
      "GET /api/users/all": 1,
      "GET /api/users/{id}/apikeys": 1,
      "POST /api/users/{id}/apikeys": 1,
      "GET /api/users/{id}/apikeys/{id}": 1,
      "DELETE /api/users/{id}/apikeys/{id}": 1,
      "GET (other)": 1,
    });
    expect(emu.stats.bytesOut).toBe(out);
    expect(emu.stats.bytesIn).toBe(Buffer.byteLength(JSON.stringify({ Purpose: "stats" })));

    emu.resetStats();
    expect(emu.stats).toEqual({ requests: 0, byRoute: {}, bytesOut: 0, bytesIn: 0 });
  });

  test("faulted requests count as requests but bytes only as sent", async () => {
    await start();
    emu.resetStats();
    emu.faults.add({ step: "lookup", kind: "dropBefore" });
    await expect(call("GET", "/api/users/me")).rejects.toThrow();
    await emu.idle();
    expect(emu.stats.requests).toBe(1);
    expect(emu.stats.byRoute).toEqual({ "GET /api/users/me": 1 });
    expect(emu.stats.bytesOut).toBe(0);
  });
});
