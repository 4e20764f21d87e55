import { OctopusEmulator } from "../emulator/server";
import { Engine, failureMessage } from "../harness/engine";
import type { OctopusUser } from "../provider/octopus/answers";
import { OctopusError } from "../provider/octopus/errors";
import { UsernameMatcher } from "../provider/octopus/usernames";
import { HostileServer, route } from "./support/hostile";
import { HostileStack, startHostileStack } from "./support/hostile-stack";

// A username lookup answered with tens of thousands of case variants of the name, as a hostile
// server can put on one page under the 4 MiB cap: the work is linear in the users listed, and
// only the candidates a message names are kept (the rest are counted).

/** A name with 16 letters: 65,536 spellings that differ only in letter case. */
const NAME = "deployment-robot-x";
const VARIANTS = 36_000;

/** The `n`th spelling of NAME: its letters upper-cased where the bits of `n` say. */
function spelling(n: number): string {
  let bit = 0;
  return [...NAME].map((c) => (/[a-z]/.test(c) && (n >> bit++) & 1 ? c.toUpperCase() : c)).join("");
}

/** `count` users, each a distinct case variant of NAME (none exactly NAME: n starts at 1). */
function variants(count: number): OctopusUser[] {
  return Array.from({ length: count }, (_, i) => ({
    Id: `Users-${100_000 + i}`,
    Username: spelling(i + 1),
  }));
}

describe("UsernameMatcher", () => {
  test(`${VARIANTS.toLocaleString("en")} case variants: AMBIGUOUS_USER naming 10, the rest counted, 10 kept`, () => {
    const users = variants(VARIANTS);
    expect(new Set(users.map((u) => u.Username)).size).toBe(VARIANTS);
    const matcher = new UsernameMatcher(NAME, "https://octopus.example.com");
    const started = Date.now();
    const stopped = users.filter((user) => matcher.consider(user));
    let error: unknown;
    try {
      matcher.result();
    } catch (e) {
      error = e;
    }
    const elapsed = Date.now() - started;
    expect(stopped).toEqual([]);
    expect(error).toBeInstanceOf(OctopusError);
    expect((error as OctopusError).code).toBe("AMBIGUOUS_USER");
    const message = (error as OctopusError).message;
    expect(message).toContain(`"${users[0].Username}" (${users[0].Id})`);
    expect(message).toContain(`"${users[9].Username}" (${users[9].Id})`);
    expect(message).not.toContain(`(${users[10].Id})`);
    expect(message).toContain(`and ${VARIANTS - 10} more`);
    // The bounded work: only the candidates the message names are kept.
    expect(matcher.retained()).toBe(10);
    // Loose: linear work takes milliseconds; the quadratic kind took seconds.
    console.log(`${VARIANTS} case variants considered in ${elapsed} ms`);
    expect(elapsed).toBeLessThan(1_500);
  });

  test("an exact match after thousands of variants still wins", () => {
    const matcher = new UsernameMatcher(NAME, "https://octopus.example.com");
    for (const user of variants(5_000)) matcher.consider(user);
    expect(matcher.consider({ Id: "Users-7", Username: NAME })).toBe(true);
    expect(matcher.result()).toEqual({ Id: "Users-7", Username: NAME });
  });

  test("one case variant listed again (pages that overlap) is still one user", () => {
    const matcher = new UsernameMatcher(NAME, "https://octopus.example.com");
    const [only] = variants(1);
    for (let i = 0; i < 3; i++) matcher.consider({ ...only, Id: only.Id.toUpperCase() });
    matcher.consider(only);
    expect(matcher.result()?.Username).toBe(only.Username);
    expect(matcher.retained()).toBe(1);
  });
});

describe("through the provider host", () => {
  let stack: HostileStack | undefined;
  let emulator: OctopusEmulator;
  let hostile: HostileServer;
  let engine: Engine;

  beforeAll(async () => {
    stack = await startHostileStack();
    ({ emulator, hostile, engine } = stack);
  });
  afterAll(() => stack?.close());

  test(`a lookup answered with ${VARIANTS.toLocaleString("en")} case variants on one page fails at once, nothing created`, async () => {
    const page = JSON.stringify({ Items: variants(VARIANTS), TotalResults: VARIANTS });
    expect(Buffer.byteLength(page)).toBeLessThan(4 * 1024 * 1024);
    hostile.use((req, res) => {
      if (!route(req, "GET", /^\/api\/users$/)) return false;
      res.writeHead(200, { "content-type": "application/json" }).end(page);
      return true;
    });
    // The first call loads the provider and got: time the second.
    await failureMessage(engine.up("warm-up", { purpose: "warm-up", username: NAME }));
    const before = hostile.requests.length;
    const started = Date.now();
    const message = await failureMessage(engine.up("variants", { purpose: "v", username: NAME }));
    const elapsed = Date.now() - started;
    console.log(`up with ${VARIANTS} case variants failed after ${elapsed} ms`);
    expect(message).toMatch(/More than one Octopus user .* apart from letter case/);
    expect(message).toContain(`and ${VARIANTS - 10} more`);
    expect(hostile.requests.slice(before).some((l) => l.startsWith("POST"))).toBe(false);
    expect(engine.state.has("variants")).toBe(false);
    // Loose: parsing 1.6 MB and a linear pass take well under a second; quadratic took seconds.
    expect(elapsed).toBeLessThan(3_000);
    // The host was never blocked for long: it answers the next call.
    hostile.clear();
    const user = emulator.addUser({ username: NAME, isService: true });
    await engine.up("after", { purpose: "after", username: NAME });
    expect(engine.outputs("after").userId).toBe(user.id);
    await engine.destroy("after");
  });
});
