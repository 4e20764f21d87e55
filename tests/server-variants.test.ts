import { OctopusEmulator } from "../emulator/server";
import type { EmulatorOptions } from "../emulator/server";
import { Engine, failureMessage, hostEnv } from "../harness/engine";

// Answers real Octopus versions may give where the documentation is silent or differs from its
// examples, each played by an emulator option and met through the real provider host.

const DAY = 86_400_000;
const emulators: OctopusEmulator[] = [];
const engines: Engine[] = [];

async function setUp(
  options: EmulatorOptions,
  credential?: (emulator: OctopusEmulator) => string,
): Promise<{ emulator: OctopusEmulator; engine: Engine }> {
  const emulator = await OctopusEmulator.start(options);
  emulators.push(emulator);
  const engine = await Engine.start({
    env: hostEnv({
      OCTOPUS_URL: emulator.url,
      OCTOPUS_API_KEY: credential ? credential(emulator) : emulator.admin.apiKey,
    }),
  });
  engines.push(engine);
  return { emulator, engine };
}

/** An administrator whose own key expires in 30 days, as a 2025.4+ admin key made with a short lifetime. */
function shortLivedAdmin(emulator: OctopusEmulator): string {
  const admin = emulator.addUser({ username: "short-lived-admin", isAdmin: true });
  return emulator.createKey(admin.id, {
    purpose: "short-lived admin key",
    expires: new Date(emulator.now().getTime() + 30 * DAY),
  }).secret;
}

afterAll(async () => {
  await Promise.all(engines.map((e) => e.close()));
  await Promise.all(emulators.map((e) => e.close()));
});

describe.each(["noContent204", "empty200", "json"] as const)(
  "a revoke answered %s",
  (deleteAnswer) => {
    test("destroy succeeds and the key is gone; so does the old key of a replace", async () => {
      const { emulator, engine } = await setUp({ deleteAnswer });
      const program = { purpose: `revoke ${deleteAnswer}`, username: "ci-bot", expiresIn: "30d" };
      await engine.up("key", program);
      const first = engine.state.get("key")!.id;
      expect(await engine.up("key", { ...program, purpose: `${program.purpose} 2` })).toMatchObject(
        {
          step: "replace",
        },
      );
      const second = engine.state.get("key")!.id;
      expect(emulator.hasKey(first)).toBe(false);
      await engine.destroy("key");
      expect(emulator.hasKey(second)).toBe(false);
      expect(engine.state.has("key")).toBe(false);
    });
  },
);

describe("2025.4+: a default expiry beyond the creating key's", () => {
  test("refused: the create fails with advice, and nothing is made", async () => {
    const { emulator, engine } = await setUp(
      { profile: "2025.4", defaultExpiryVsCaller: "refuse" },
      shortLivedAdmin,
    );
    const before = emulator.liveKeys().length;
    const message = await failureMessage(
      engine.up("trap", { purpose: "trap", username: "ci-bot" }),
    );
    expect(message).toMatch(/400/);
    expect(message).toMatch(/Use expiresIn .*or a longer-lived admin key/);
    expect(emulator.liveKeys()).toHaveLength(before);
  });

  test("clipped: the key is made, and its output expiry is the one the server gave", async () => {
    const { emulator, engine } = await setUp(
      { profile: "2025.4", defaultExpiryVsCaller: "clip" },
      shortLivedAdmin,
    );
    await engine.up("clipped", { purpose: "clipped", username: "ci-bot" });
    const outs = engine.outputs("clipped");
    const live = emulator.liveKeys().find((k) => k.Id === outs.apiKeyId);
    expect(live).toBeDefined();
    // Shortened to the admin key's 30 days, not the 180-day default.
    const lifetime = Date.parse(outs.expires as string) - Date.parse(outs.created as string);
    expect(lifetime).toBeLessThanOrEqual(30 * DAY + 1_000);
    expect(lifetime).toBeGreaterThan(29 * DAY);
    await engine.destroy("clipped");
    expect(emulator.hasKey(outs.apiKeyId as string)).toBe(false);
  });
});

test("a 403 in the HelpText shape: HelpText is in the message, the server's stack trace never", async () => {
  const { engine } = await setUp({ errorBodies: "helpText" });
  // A key for an ordinary user who is not a service account: Octopus refuses even an administrator.
  const message = await failureMessage(
    engine.up("other", { purpose: "other", username: "jane.doe" }),
  );
  expect(message).toMatch(/403/);
  expect(message).toMatch(/only be created for your own user account or for service accounts/);
  expect(message).not.toMatch(/Octopus\.Server|Exception| {3}at /);
});

test("user API keys turned off: a user's own key is refused with the setting named; a service account's works", async () => {
  // A server that does not publish its key policy: preview cannot know (server-policy.test.ts),
  // so the create meets Octopus's own refusal, which gets the advice.
  const { emulator, engine } = await setUp(
    { userApiKeysEnabled: false, authenticationEndpoint: "missing" },
    (emu) => emu.user.apiKey,
  );
  const message = await failureMessage(engine.up("own", { purpose: "own key" }));
  expect(message).toMatch(/403/);
  expect(message).toMatch(/UserApiKeysEnabled/);
  expect(message).toMatch(/service account/);
  expect(emulator.liveKeys(emulator.user.id).map((k) => k.Purpose)).not.toContain("own key");

  const admin = await Engine.start({
    env: hostEnv({ OCTOPUS_URL: emulator.url, OCTOPUS_API_KEY: emulator.admin.apiKey }),
  });
  engines.push(admin);
  await admin.up("service", { purpose: "service key", username: "ci-bot" });
  expect(emulator.hasKey(admin.state.get("service")!.id)).toBe(true);
  await admin.destroy("service");
});
