import type { FaultRule } from "../emulator/faults";
import { OctopusEmulator } from "../emulator/server";
import { startProxy } from "./support/forward";
import { Engine, failureMessage, hostEnv } from "../harness/engine";

// Reconciliation after a create whose answer was lost, through the real provider
// host: a key is revoked only when its expiry carries the exact instant this very request sent.
// Everything else (another stack's key, an older key, this stack's tracked key, a key made with
// the server's default expiry, a server that dropped the sub-second digits) is left alone, and
// what cannot be proven is named for a person to revoke.

let emulator: OctopusEmulator;
let engine: Engine;
let other: Engine;
let serial = 0;

const env = (url = emulator.url) =>
  hostEnv({
    OCTOPUS_URL: url,
    OCTOPUS_API_KEY: emulator.admin.apiKey,
    OCTOPUS_REQUEST_TIMEOUT: "500",
  });

beforeAll(async () => {
  emulator = await OctopusEmulator.start();
  // Two provider hosts: this stack's, and another stack's deploying at the same time.
  [engine, other] = await Promise.all([Engine.start({ env: env() }), Engine.start({ env: env() })]);
});

afterAll(async () => {
  await Promise.all([engine?.close(), other?.close()]);
  await emulator?.close();
});

afterEach(() => emulator.faults.clear());

/** A service account of its own per test, so that user lookups and keys never mix. */
function setting(label: string) {
  serial++;
  const user = emulator.addUser({ username: `robot-${serial}`, isService: true });
  return { user, purpose: `${label} ${serial}`, name: `key-${serial}` };
}

/** Ids of the live keys with `purpose`, sorted. */
const live = (purpose: string): string[] => emulator.liveKeyIds(purpose);

const LOST: Array<[string, Omit<FaultRule, "step">]> = [
  ["dropped after processing", { kind: "dropAfter" }],
  ["answered after the timeout", { kind: "latency", ms: 1_200 }],
  ["502 from a gateway", { kind: "status", status: 502 }],
  ["504 from a gateway", { kind: "status", status: 504 }],
  ["truncated JSON", { kind: "invalidJson" }],
  ["created key without ApiKey", { kind: "noApiKey" }],
];

describe("with an explicit lifetime, a lost create leaves no untracked key", () => {
  test.each(LOST)("%s (expiresIn)", async (_name, rule) => {
    const { user, purpose, name } = setting("lost in");
    emulator.faults.add({ ...rule, step: "create" });
    const message = await failureMessage(
      engine.up(name, { purpose, username: user.username, expiresIn: "30d" }),
    );
    await emulator.idle();
    expect(message).toMatch(/UNKNOWN_OUTCOME|lost its answer|none was made/);
    expect(live(purpose)).toEqual([]);
    expect(engine.state.has(name)).toBe(false);
  });

  test("a lost create with expiresAt is cleaned up too", async () => {
    const { user, purpose, name } = setting("lost at");
    emulator.faults.add({ kind: "dropAfter", step: "create" });
    const expiresAt = new Date(Date.now() + 40 * 86_400_000).toISOString().replace(/\..*/, "Z");
    const message = await failureMessage(
      engine.up(name, { purpose, username: user.username, expiresAt }),
    );
    expect(message).toMatch(/has been revoked/);
    expect(live(purpose)).toEqual([]);
  });
});

describe("keys that are not this request's survive", () => {
  test.each([
    ["expiresIn", { expiresIn: "30d" }],
    ["the server's default expiry", {}],
  ])(
    "another stack's live key with the same purpose, created during the look-around (%s)",
    async (_how, lifetime) => {
      const { user, purpose, name } = setting("concurrent");
      const program = { purpose, username: user.username, ...lifetime };
      // The other stack has looked the user up already, so its create follows at once.
      await other.up(`${name}-warm`, { ...program, purpose: `${purpose} warm-up` });
      await other.destroy(`${name}-warm`);
      // This stack's create is processed 1.2 s late, after its 500 ms timeout; the other
      // stack's key is made meanwhile, before this stack first looks, and while it looks on.
      emulator.faults.add({ kind: "latency", ms: 1_200, step: "create", count: 1 });
      const before = emulator.stats.byRoute["POST /api/users/{id}/apikeys"] ?? 0;
      const mine = failureMessage(engine.up(name, program));
      for (let i = 0; i < 400; i++) {
        if ((emulator.stats.byRoute["POST /api/users/{id}/apikeys"] ?? 0) > before) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await other.up(name, program);
      const theirs = other.state.get(name)!.id;
      const message = await mine;
      await emulator.idle();

      expect(emulator.hasKey(theirs)).toBe(true);
      if ("expiresIn" in lifetime) {
        // This request's own key was proven and revoked; the other stack's was never a candidate.
        expect(message).toMatch(/has been revoked/);
        expect(message).not.toContain(theirs);
        expect(live(purpose)).toEqual([theirs]);
      } else {
        // Nothing proves which key is whose: both are named, none revoked.
        const keys = live(purpose);
        expect(keys).toHaveLength(2);
        for (const id of keys) expect(message).toContain(id);
        expect(message).toMatch(/None was revoked/);
      }
      await other.destroy(name);
      for (const id of live(purpose)) emulator.revokeKey(id);
    },
  );

  test("a key with the same purpose created 10 minutes before the request", async () => {
    const { user, purpose, name } = setting("older");
    // Made 10 minutes ago by the server's clock: before the window around the send, which allows
    // for clocks that disagree (a key made seconds before the send would be named).
    emulator.advance(-10 * 60_000);
    const older = emulator.createKey(user.id, { purpose });
    emulator.advance(10 * 60_000);
    emulator.faults.add({ kind: "dropAfter", step: "create" });
    const defaulted = await failureMessage(engine.up(name, { purpose, username: user.username }));
    await emulator.idle();
    expect(emulator.hasKey(older.id)).toBe(true);
    // The lost create's key is named (default expiry: unprovable); the older key is not.
    const made = live(purpose).filter((id) => id !== older.id);
    expect(made).toHaveLength(1);
    expect(defaulted).toContain(made[0]);
    expect(defaulted).not.toContain(older.id);
    emulator.revokeKey(made[0]);

    emulator.faults.add({ kind: "dropAfter", step: "create" });
    const explicit = await failureMessage(
      engine.up(name, { purpose, username: user.username, expiresIn: "30d" }),
    );
    await emulator.idle();
    expect(explicit).toMatch(/has been revoked/);
    expect(live(purpose)).toEqual([older.id]);
    emulator.revokeKey(older.id);
  });

  test.each([
    ["expiresIn", { expiresIn: "30d" }],
    ["the server's default expiry", {}],
  ])(
    "this stack's own tracked key, on a quick replace whose create lost its answer (%s)",
    async (_how, lifetime) => {
      const { user, purpose, name } = setting("replace");
      const program = { purpose, username: user.username, ...lifetime };
      // The next `pulumi up` runs in a new provider host, which never saw the tracked key made.
      const next = await Engine.start({ env: env() });
      try {
        await engine.up(name, program);
        const tracked = engine.state.get(name)!;
        next.state.set(name, tracked);
        // At once, a replacement whose create gets a 502 from a gateway: its outcome is
        // unknown, and the only key with that purpose made lately is the tracked one.
        emulator.faults.add({ kind: "status", status: 502, step: "create" });
        const message = await failureMessage(
          next.up(name, { ...program, rotationTriggers: { run: "2" } }),
        );
        await emulator.idle();
        expect(emulator.hasKey(tracked.id)).toBe(true);
        expect(next.state.get(name)?.id).toBe(tracked.id);
        expect(message).not.toContain(tracked.id);
        expect(message).toMatch(/none was made/);
        expect(live(purpose)).toEqual([tracked.id]);
        await next.destroy(name);
        engine.state.delete(name);
        expect(live(purpose)).toEqual([]);
      } finally {
        await next.close();
      }
    },
  );
});

describe("when ownership cannot be proven, every key is left alone and named", () => {
  test.each(LOST.filter(([, rule]) => rule.kind !== "status"))(
    "default expiry, %s",
    async (_name, rule) => {
      const { user, purpose, name } = setting("default");
      emulator.faults.add({ ...rule, step: "create" });
      const message = await failureMessage(engine.up(name, { purpose, username: user.username }));
      await emulator.idle();
      const keys = live(purpose);
      expect(keys).toHaveLength(1);
      expect(message).toContain(keys[0]);
      expect(message).toMatch(/None was revoked/);
      expect(message).toMatch(/expiresIn or expiresAt/);
      emulator.revokeKey(keys[0]);
    },
  );

  test("an Octopus that drops the sub-second digits of Expires", async () => {
    // A reverse proxy that lists keys with whole-second expiries, as a server storing seconds would.
    const truncating = await startProxy(emulator.url, {
      body: (text, req) =>
        req.method === "GET" && /\/apikeys(\?|$)/.test(req.url ?? "")
          ? text.replace(/("Expires":\s*"[^"]*T\d\d:\d\d:\d\d)\.\d+/g, "$1")
          : text,
    });
    const through = await Engine.start({ env: env(truncating.url) });
    try {
      const { user, purpose, name } = setting("truncated");
      emulator.faults.add({ kind: "dropAfter", step: "create" });
      const message = await failureMessage(
        through.up(name, { purpose, username: user.username, expiresIn: "30d" }),
      );
      await emulator.idle();
      const keys = live(purpose);
      expect(keys).toHaveLength(1);
      expect(message).toContain(keys[0]);
      expect(message).toMatch(/did not keep the exact expiry/);
      expect(message).toMatch(/None was revoked/);
      emulator.revokeKey(keys[0]);
    } finally {
      await through.close();
      await truncating.close();
    }
  });
});
