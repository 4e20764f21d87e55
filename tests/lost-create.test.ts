import { OctopusEmulator } from "../emulator/server";
import { Engine, failureMessage, hostEnv } from "../harness/engine";
import { startProxy } from "./support/forward";

// A create whose answer was lost, on servers and networks the emulator alone does not play, through
// the real provider host: a server that keeps `Expires` as SQL Server's `datetime` does, a reverse
// proxy that stamps its own `Date` header seconds off the server's clock, a listing that comes
// oldest first, and another deployment's key with the same purpose made around the send. The
// rule: a key is revoked only on the exact expiry marker its request sent; any other untracked key
// with that purpose made around the send is named, and the message never says none was made.

let emulator: OctopusEmulator;
/** This stack's provider host straight to the emulator, and another deployment's. */
let engine: Engine;
let other: Engine;
/** This stack's provider host behind a proxy whose habits each test sets in `proxy`. */
let through: Engine;
let front: Awaited<ReturnType<typeof startProxy>>;
let serial = 0;

const proxy = { roundTo300: false, dateOffsetMs: 0, oldestFirst: false, prefixFilter: false };

const env = (url: string) =>
  hostEnv({
    OCTOPUS_URL: url,
    OCTOPUS_API_KEY: emulator.admin.apiKey,
    OCTOPUS_REQUEST_TIMEOUT: "500",
  });

/**
 * An instant as SQL Server's `datetime` keeps it: in ticks of 1/300 s, so that its milliseconds
 * end in 0, 3 or 7 (.123 stays, .125 becomes .127, .999 the next second).
 */
function roundTo300(iso: string): string {
  const ms = Date.parse(iso);
  const rounded = Math.round((Math.round((ms * 3) / 10) * 10) / 3);
  return new Date(rounded).toISOString().replace("Z", "+00:00");
}

beforeAll(async () => {
  emulator = await OctopusEmulator.start();
  front = await startProxy(emulator.url, {
    headers: (headers) => {
      // As nginx does: the proxy's own clock, here `dateOffsetMs` off the server's.
      if (proxy.dateOffsetMs !== 0) {
        headers.date = new Date(Date.now() + proxy.dateOffsetMs).toUTCString();
      }
    },
    body: (text, req) => {
      let body = text;
      if (proxy.roundTo300) {
        body = body.replace(
          /"(Created|Expires)":\s*"([^"]+)"/g,
          (_all, field: string, at: string) => `"${field}":"${roundTo300(at)}"`,
        );
      }
      if (req.method !== "GET" || !/\/apikeys(\?|$)/.test(req.url ?? "")) return body;
      const page = JSON.parse(body) as { Items: Array<{ Purpose: string }> };
      if (proxy.oldestFirst) page.Items.reverse();
      const fragment = new URL(req.url ?? "", "http://x").searchParams.get("partialPurpose");
      if (proxy.prefixFilter && fragment) {
        // A server whose `partialPurpose` matches the start of the purpose only.
        const start = fragment.toLowerCase();
        page.Items = page.Items.filter((k) => k.Purpose.toLowerCase().startsWith(start));
      }
      return JSON.stringify(page);
    },
  });
  [engine, other, through] = await Promise.all([
    Engine.start({ env: env(emulator.url) }),
    Engine.start({ env: env(emulator.url) }),
    Engine.start({ env: env(front.url) }),
  ]);
});

afterAll(async () => {
  await Promise.all([engine?.close(), other?.close(), through?.close()]);
  await front?.close();
  await emulator?.close();
});

afterEach(() => {
  emulator.faults.clear();
  Object.assign(proxy, {
    roundTo300: false,
    dateOffsetMs: 0,
    oldestFirst: false,
    prefixFilter: false,
  });
});

/** A service account of its own per test, so that user lookups and keys never mix. */
function setting(label: string) {
  serial++;
  const user = emulator.addUser({ username: `robot-${serial}`, isService: true });
  return { user, purpose: `${label} ${serial}`, name: `key-${serial}` };
}

/** Ids of the live keys with `purpose`, sorted. */
const live = (purpose: string): string[] => emulator.liveKeyIds(purpose);

/** A key made `ms` before now by the server's clock, as another deployment made it then. */
function madeEarlier(userId: string, purpose: string, ms: number): string {
  emulator.advance(-ms);
  try {
    return emulator.createKey(userId, { purpose }).id;
  } finally {
    emulator.advance(ms);
  }
}

const LIFETIMES = [
  ["expiresIn", { expiresIn: "30d" }],
  [
    "expiresAt",
    { expiresAt: new Date(Date.now() + 40 * 86_400_000).toISOString().replace(/\..*/, "Z") },
  ],
] as const;

describe("an Octopus that keeps Expires to 1/300 s, as SQL Server's datetime does", () => {
  test.each(LIFETIMES)("the rounded key is named, not revoked (%s)", async (_how, lifetime) => {
    proxy.roundTo300 = true;
    const { user, purpose, name } = setting("rounded");
    emulator.faults.add({ kind: "dropAfter", step: "create" });
    const message = await failureMessage(
      through.up(name, { purpose, username: user.username, ...lifetime }),
    );
    await emulator.idle();
    const keys = live(purpose);
    expect(keys).toHaveLength(1);
    expect(message).toContain(keys[0]);
    expect(message).toMatch(/within a second/);
    expect(message).toMatch(/None was revoked/);
    expect(message).not.toMatch(/none was made/i);
    emulator.revokeKey(keys[0]);
  });
});

describe("a reverse proxy that stamps its own Date header, seconds off the server's clock", () => {
  test.each([
    ["8 s ahead", 8_000],
    ["8 s behind", -8_000],
  ])("%s: the marked key is found and revoked", async (_how, offset) => {
    proxy.dateOffsetMs = offset;
    const { user, purpose, name } = setting("proxied");
    emulator.faults.add({ kind: "dropAfter", step: "create" });
    const message = await failureMessage(
      through.up(name, { purpose, username: user.username, expiresIn: "30d" }),
    );
    await emulator.idle();
    expect(message).toMatch(/has been revoked/);
    expect(live(purpose)).toEqual([]);
  });

  test("8 s ahead, the server's default expiry: the key is named", async () => {
    proxy.dateOffsetMs = 8_000;
    const { user, purpose, name } = setting("proxied default");
    emulator.faults.add({ kind: "dropAfter", step: "create" });
    const message = await failureMessage(through.up(name, { purpose, username: user.username }));
    await emulator.idle();
    const keys = live(purpose);
    expect(keys).toHaveLength(1);
    expect(message).toContain(keys[0]);
    expect(message).toMatch(/None was revoked/);
    expect(message).not.toMatch(/none was made/i);
    emulator.revokeKey(keys[0]);
  });
});

describe("a key listing that comes oldest first", () => {
  test.each([
    ["expiresIn", { expiresIn: "30d" }],
    ["the server's default expiry", {}],
  ])("the lost create's key is still found (%s)", async (how, lifetime) => {
    proxy.oldestFirst = true;
    const { user, purpose, name } = setting("oldest first");
    // Made 10 minutes before, by another deployment: neither this request's nor around it.
    const older = madeEarlier(user.id, purpose, 10 * 60_000);
    emulator.faults.add({ kind: "dropAfter", step: "create" });
    const listed = front.requests.length;
    const message = await failureMessage(
      through.up(name, { purpose, username: user.username, ...lifetime }),
    );
    await emulator.idle();
    expect(emulator.hasKey(older)).toBe(true);
    expect(message).not.toContain(older);
    if (how === "expiresIn") {
      expect(message).toMatch(/has been revoked/);
      expect(live(purpose)).toEqual([older]);
    } else {
      const made = live(purpose).filter((id) => id !== older);
      expect(made).toHaveLength(1);
      expect(message).toContain(made[0]);
      expect(message).toMatch(/None was revoked/);
      emulator.revokeKey(made[0]);
    }
    // The listing is narrowed on the server by a fragment of the purpose.
    const listings = front.requests.slice(listed).filter((r) => /^GET .*\/apikeys\?/.test(r));
    expect(listings.length).toBeGreaterThan(0);
    for (const request of listings) expect(request).toContain("partialPurpose=oldest");
    emulator.revokeKey(older);
  });
});

test("a server whose partialPurpose matches otherwise: one look without it before 'none was made'", async () => {
  proxy.prefixFilter = true;
  serial++;
  const user = emulator.addUser({ username: `robot-${serial}`, isService: true });
  // The fragment sent is the longest plain run, "fragment-in-the-middle": not the purpose's start.
  const purpose = `prefix ${serial} fragment-in-the-middle`;
  emulator.faults.add({ kind: "dropAfter", step: "create" });
  const listed = front.requests.length;
  const message = await failureMessage(
    through.up(`key-${serial}`, { purpose, username: user.username, expiresIn: "30d" }),
  );
  await emulator.idle();
  expect(message).toMatch(/has been revoked/);
  expect(live(purpose)).toEqual([]);
  const listings = front.requests.slice(listed).filter((r) => /^GET .*\/apikeys\?/.test(r));
  expect(listings.some((r) => r.includes("partialPurpose=fragment-in-the-middle"))).toBe(true);
  expect(listings.at(-1)).not.toContain("partialPurpose");
});

describe("another deployment's key with the same purpose, made around the send", () => {
  test.each(["just before the send", "while this stack looks"])(
    "is named, never revoked, when this create made none (%s)",
    async (when) => {
      const { user, purpose, name } = setting("beside");
      const program = { purpose, username: user.username, expiresIn: "30d" };
      // The other deployment has looked the user up already, so its create follows at once.
      await other.up(`${name}-warm`, { ...program, purpose: `${purpose} warm-up` });
      await other.destroy(`${name}-warm`);
      if (when === "just before the send") await other.up(name, program);
      // A gateway answers for Octopus, which never saw this stack's create; a 504 makes this
      // stack look for longer, since the server might still be working on it.
      emulator.faults.add({ kind: "status", status: 504, step: "create" });
      const posts = () => emulator.stats.byRoute["POST /api/users/{id}/apikeys"] ?? 0;
      const before = posts();
      const mine = failureMessage(engine.up(name, program));
      if (when === "while this stack looks") {
        for (let i = 0; i < 400 && posts() === before; i++) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        await other.up(name, program);
      }
      const message = await mine;
      await emulator.idle();
      const theirs = other.state.get(name)!.id;
      expect(live(purpose)).toEqual([theirs]);
      expect(message).toContain(theirs);
      expect(message).toMatch(/None was revoked/);
      expect(message).not.toMatch(/none was made/i);
      await other.destroy(name);
    },
  );
});

test("many untracked keys: the message names 20, newest first, and counts the rest", async () => {
  const { user, purpose, name } = setting("crowd");
  const crowd = new Set(
    Array.from({ length: 250 }, () => emulator.createKey(user.id, { purpose }).id),
  );
  emulator.faults.add({ kind: "dropAfter", step: "create" });
  const message = await failureMessage(engine.up(name, { purpose, username: user.username }));
  await emulator.idle();
  const keys = live(purpose);
  expect(keys).toHaveLength(251);
  expect(message).toMatch(/251 keys/);
  expect(message).toMatch(/and 231 more/);
  expect((message.match(/apikeys-/g) ?? []).length).toBe(20);
  expect(message).toContain(keys.find((id) => !crowd.has(id)));
  expect(message).not.toMatch(/none was made/i);
  for (const id of keys) emulator.revokeKey(id);
});
