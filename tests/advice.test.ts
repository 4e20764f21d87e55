import { OctopusEmulator } from "../emulator/server";
import { Engine, failureMessage, hostEnv } from "../harness/engine";

// Refusals that real Octopus versions give, each with advice that says what to do, through the
// real provider host.

const DAY = 86_400_000;
let emulator: OctopusEmulator;
const engines: Engine[] = [];
let serial = 0;

async function start(env: Record<string, string>): Promise<Engine> {
  const engine = await Engine.start({ env: hostEnv({ OCTOPUS_URL: emulator.url, ...env }) });
  engines.push(engine);
  return engine;
}

beforeAll(async () => {
  emulator = await OctopusEmulator.start();
});

afterAll(async () => {
  await Promise.all(engines.map((e) => e.close()));
  await emulator?.close();
});

afterEach(() => emulator.faults.clear());

test("2025.4+: a default expiry beyond the creating key's is refused with advice to use expiresIn or a longer-lived admin key", async () => {
  // An administrator whose own key expires in 30 days: the server's 180-day default outlives it.
  const admin = emulator.addUser({ username: `admin-${++serial}`, isAdmin: true });
  const short = emulator.createKey(admin.id, {
    purpose: "short-lived admin key",
    expires: new Date(Date.now() + 30 * DAY),
  });
  const engine = await start({ OCTOPUS_API_KEY: short.secret });
  const program = { purpose: "default expiry trap", username: emulator.serviceAccount.username };

  const message = await failureMessage(engine.up("trap", program));
  expect(message).toMatch(/cannot expire after the API key used to create it/);
  expect(message).toMatch(/server's default/);
  expect(message).toMatch(/Use expiresIn .*or a longer-lived admin key/);
  expect(message).not.toContain(short.secret);

  // The advice works: an explicit lifetime within the admin key's is accepted.
  await engine.up("trap", { ...program, expiresIn: "7d" });
  await engine.destroy("trap");
});

test("before 2025.4: a key without an expiry, made with a key that expires, is refused with the same advice", async () => {
  const older = await OctopusEmulator.start({ profile: "2025.3" });
  try {
    const admin = older.addUser({ username: "expiring-admin", isAdmin: true });
    const short = older.createKey(admin.id, {
      purpose: "expiring admin key",
      expires: new Date(Date.now() + 30 * DAY),
    });
    const engine = await Engine.start({
      env: hostEnv({ OCTOPUS_URL: older.url, OCTOPUS_API_KEY: short.secret }),
    });
    engines.push(engine);
    const program = { purpose: "no expiry", username: older.serviceAccount.username };
    const message = await failureMessage(engine.up("never", program));
    expect(message).toMatch(/no expiry at all before/);
    expect(message).toMatch(
      /Use expiresIn .*before Octopus 2025\.4, only a key that never expires/,
    );
    await engine.up("never", { ...program, expiresIn: "7d" });
    await engine.destroy("never");
  } finally {
    await older.close();
  }
});

test("an explicit expiry beyond the creating key's gets the advice for an explicit expiry", async () => {
  const admin = emulator.addUser({ username: `admin-${++serial}`, isAdmin: true });
  const short = emulator.createKey(admin.id, {
    purpose: "short-lived admin key",
    expires: new Date(Date.now() + 30 * DAY),
  });
  const engine = await start({ OCTOPUS_API_KEY: short.secret });
  const message = await failureMessage(
    engine.up("explicit", {
      purpose: "explicit beyond",
      username: emulator.serviceAccount.username,
      expiresIn: "60d",
    }),
  );
  expect(message).toMatch(/use a shorter expiresIn\/expiresAt/);
  expect(message).not.toMatch(/server's default/);
});

test("a user whose own API keys are turned off is told the setting and to use a service account", async () => {
  const engine = await start({ OCTOPUS_API_KEY: emulator.admin.apiKey });
  // The refusal Octopus 2023.2+ gives a user creating a key for themself when UserApiKeysEnabled is off.
  emulator.faults.add({ kind: "status", status: 403, step: "create" });
  const message = await failureMessage(engine.up("self", { purpose: "own key" }));
  expect(message).toMatch(/403/);
  expect(message).toMatch(/UserApiKeysEnabled/);
  expect(message).toMatch(/service account/);
});

test("an expired access token fails refresh and destroy with advice to re-authenticate", async () => {
  const account = emulator.addUser({ username: `token-bot-${++serial}`, isService: true });
  const token = emulator.issueAccessToken(account.id, new Date(Date.now() + 3_600_000));
  const engine = await start({ OCTOPUS_ACCESS_TOKEN: token });
  await engine.up("token", { purpose: "made with a token" });
  const stored = engine.state.get("token")!;

  emulator.advance(61 * 60_000);
  try {
    for (const operation of [() => engine.refresh("token"), () => engine.destroy("token")]) {
      const message = await failureMessage(operation());
      expect(message).toMatch(/401/);
      expect(message).toMatch(/access token \(from OCTOPUS_ACCESS_TOKEN\) was refused/);
      expect(message).toMatch(/expire about an hour after/);
      expect(message).toMatch(/re-authenticate to get a new token/);
      expect(message).not.toContain(token);
    }
    expect(engine.state.get("token")).toEqual(stored);
  } finally {
    emulator.advance(-61 * 60_000);
  }

  // A fresh token for the same account finishes the job.
  const renewed = await start({
    OCTOPUS_ACCESS_TOKEN: emulator.issueAccessToken(account.id, new Date(Date.now() + 3_600_000)),
  });
  renewed.state.set("token", stored);
  await renewed.destroy("token");
  expect(emulator.hasKey(stored.id)).toBe(false);
});
