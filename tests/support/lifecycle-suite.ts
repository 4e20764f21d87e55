import { OctopusEmulator } from "../../emulator/server";
import { DEFAULT_PROFILE, type ProfileName } from "../../emulator/profiles";
import { hostEnv } from "../../harness/engine";
import { type Door, type DoorConfig, type DoorEngine, startEngine } from "../../harness/doors";
import { isSecret } from "../../harness/plugin";

// The whole lifecycle through one front door (the dynamic provider host or the plugin), spawned
// as the engine spawns it and driven over gRPC, against the emulator playing each Octopus
// version in turn (see emulator/README.md). Assertions look at the emulator's own state; what
// only one door does (the provider text in state, secrets wrapped) is asserted for that door.

/** The lifecycle through `door`, on each of `profiles`. */
export function lifecycleSuite(door: Door, profiles: readonly ProfileName[]): void {
  let emulator: OctopusEmulator;
  let engine: DoorEngine;
  const start = (env: NodeJS.ProcessEnv, config?: DoorConfig) => startEngine(door, { env, config });

  describe.each(profiles)("on Octopus %s", (profile) => {
    beforeAll(async () => {
      emulator = await OctopusEmulator.start({ profile });
      engine = await start(
        hostEnv({ OCTOPUS_URL: emulator.url, OCTOPUS_API_KEY: emulator.admin.apiKey }),
      );
    });
    afterAll(async () => {
      await engine?.close();
      await emulator?.close();
    });

    test("create gives a working secret key; destroy revokes it on the server", async () => {
      expect(
        await engine.up("deployer", { purpose: "CI deployments", username: "CI-BOT" }),
      ).toEqual({
        step: "create",
      });
      const outs = engine.outputs("deployer");
      const id = engine.state.get("deployer")?.id as string;

      expect(id).toMatch(/^apikeys-/);
      expect(emulator.hasKey(id)).toBe(true);
      expect(outs).toMatchObject({
        apiKeyId: id,
        userId: emulator.serviceAccount.id,
        username: "ci-bot",
        purpose: "CI deployments",
        serverUrl: emulator.url,
        expired: false,
      });
      expect(outs.apiKey).toMatch(/^API-[A-Z0-9]+$/);
      expect(outs.hint).toBe((outs.apiKey as string).slice(0, 8));
      if (profile === "2025.3") {
        // Before 2025.4 a key made without an expiry never expires.
        expect(outs.expires).toBeNull();
      } else {
        // From 2025.4 the server's default applies: 180 days.
        expect(
          Math.abs(Date.parse(outs.expires as string) - (Date.now() + 180 * 86_400_000)),
        ).toBeLessThan(60_000);
      }
      // The server's record of the key: full access (the default) where the version reports it.
      const live = emulator.liveKeys().find((k) => k.Id === id);
      expect(live?.accessLevel).toBe(profile === "2026.3" ? "FullAccess" : null);

      // The created key works: it authenticates as the service account.
      const me = await fetch(`${emulator.url}/api/users/me`, {
        headers: { "X-Octopus-ApiKey": outs.apiKey as string },
      });
      expect(((await me.json()) as { Id: string }).Id).toBe(emulator.serviceAccount.id);

      // Nothing is undefined: every output is plain JSON.
      expect(Object.values(outs).every((v) => v !== undefined)).toBe(true);
      expectStoredForDoor(engine, "deployer", ["apiKey"]);

      expect(
        await engine.up("deployer", { purpose: "CI deployments", username: "CI-BOT" }),
      ).toEqual({
        step: "same",
      });

      expect(await engine.refresh("deployer")).toBe("kept");
      expect(engine.outputs("deployer").apiKey).toBe(outs.apiKey);

      await engine.destroy("deployer");
      expect(emulator.hasKey(id)).toBe(false);
    });

    test("a key for the caller's own user, with expiresIn resolved once at creation", async () => {
      await engine.up("own", { purpose: "own key", expiresIn: "30d" });
      const outs = engine.outputs("own");
      expect(outs.userId).toBe(emulator.admin.id);
      const expires = Date.parse(outs.expires as string);
      expect(Math.abs(expires - (Date.now() + 30 * 86_400_000))).toBeLessThan(60_000);
      expect((await engine.up("own", { purpose: "own key", expiresIn: "30d" })).step).toBe("same");
      await engine.destroy("own");
      expect(emulator.liveKeys(emulator.admin.id).some((k) => k.Purpose === "own key")).toBe(false);
    });

    test("a change of purpose creates the new key before revoking the old one", async () => {
      await engine.up("rotating", { purpose: "v1", userId: emulator.serviceAccount.id });
      const first = engine.state.get("rotating")?.id as string;
      const result = await engine.up("rotating", {
        purpose: "v2",
        userId: emulator.serviceAccount.id,
      });
      expect(result).toEqual({ step: "replace", replaces: ["purpose"] });
      const second = engine.state.get("rotating")?.id as string;
      expect(second).not.toBe(first);
      expect(emulator.hasKey(first)).toBe(false);
      expect(emulator.hasKey(second)).toBe(true);
      await engine.destroy("rotating");
    });

    test("refresh drops a key revoked outside Pulumi; destroy of a revoked key succeeds", async () => {
      await engine.up("revoked", { purpose: "revoked outside" });
      const id = engine.state.get("revoked")?.id as string;
      emulator.revokeKey(id);
      const saved = engine.state.get("revoked");
      expect(await engine.refresh("revoked")).toBe("gone");
      expect(engine.state.has("revoked")).toBe(false);

      engine.state.set("revoked", saved!);
      await engine.destroy("revoked");
      expect(engine.state.has("revoked")).toBe(false);
    });

    test("refresh drops a key whose user was deleted", async () => {
      const temp = emulator.addUser({ username: "temp-robot", isService: true });
      await engine.up("orphaned", { purpose: "temp", userId: temp.id });
      emulator.deleteUser(temp.id);
      expect(await engine.refresh("orphaned")).toBe("gone");
    });

    test("asking for another ordinary user's key explains Octopus's rule", async () => {
      const failure = await engine
        .up("forbidden", { purpose: "not allowed", username: emulator.user.username })
        .catch((e: unknown) => e as Error);
      expect(failure).toBeInstanceOf(engine.CallError);
      expect((failure as Error).message).toMatch(/403/);
      expect((failure as Error).message).toMatch(
        /only issues API keys for yourself or for service accounts/,
      );
      expect(engine.state.has("forbidden")).toBe(false);
      expect(emulator.liveKeys(emulator.user.id).some((k) => k.Purpose === "not allowed")).toBe(
        false,
      );
    });

    test("an unknown username fails before anything is created", async () => {
      const failure = (await engine
        .up("nobody", { purpose: "x", username: "no-such-user" })
        .catch((e: unknown) => e)) as Error;
      expect(failure.message).toMatch(/No Octopus user .* has the username "no-such-user"/);
    });

    test("bad input fails in check and sends nothing to Octopus", async () => {
      emulator.resetStats();
      const failure = (await engine
        .up("bad", { purpose: "", expiresIn: "soon" })
        .catch((e: unknown) => e)) as Error;
      expect(failure.message).toMatch(/purpose/);
      expect(failure.message).toMatch(/expiresIn/);
      expect(emulator.stats.requests).toBe(0);
    });

    // Credentials and where they come from: no Octopus version changes them, and each of these
    // starts a provider process of its own, so they run on the default profile only.
    if (profile === DEFAULT_PROFILE) {
      test("a change of credentials alone updates in place and keeps every output, the secret too", async () => {
        const other = emulator.createKey(emulator.admin.id, { purpose: "second admin key" });
        const connection = { address: emulator.url, apiKey: emulator.admin.apiKey };
        await engine.up("creds", { purpose: "creds", connection });
        const before = engine.outputs("creds");
        const result = await engine.up("creds", {
          purpose: "creds",
          connection: { ...connection, apiKey: other.secret },
        });
        expect(result.step).toBe("update");
        const after = engine.outputs("creds");
        expectStoredForDoor(engine, "creds", ["apiKey", "connection"]);
        expect(after.apiKey).toBe(before.apiKey);
        expect(after.apiKeyId).toBe(before.apiKeyId);
        expect(emulator.hasKey(before.apiKeyId as string)).toBe(true);
        // Destroy uses the stored, newer credentials, whatever the environment says.
        const elsewhere = await start(
          hostEnv({
            OCTOPUS_URL: "https://wrong.example.com",
            OCTOPUS_API_KEY: "API-WRONGKEY00000000",
          }),
        );
        try {
          elsewhere.state.set("creds", engine.state.get("creds")!);
          await elsewhere.destroy("creds");
        } finally {
          await elsewhere.close();
        }
        engine.state.delete("creds");
        expect(emulator.hasKey(before.apiKeyId as string)).toBe(false);
      });

      test("a delete that Octopus refuses fails and the resource stays in state", async () => {
        await engine.up("kept", { purpose: "kept on failure" });
        const id = engine.state.get("kept")?.id as string;
        const stranger = await start(
          hostEnv({ OCTOPUS_URL: emulator.url, OCTOPUS_API_KEY: "API-NOTAVALIDKEY000000000" }),
        );
        try {
          stranger.state.set("kept", engine.state.get("kept")!);
          const failure = await stranger.destroy("kept").catch((e: unknown) => e);
          expect(failure).toBeInstanceOf(stranger.CallError);
          expect((failure as Error).message).toMatch(/401/);
          expect((failure as Error).message).toMatch(/OCTOPUS_API_KEY/);
          expect(stranger.state.has("kept")).toBe(true);
          expect(emulator.hasKey(id)).toBe(true);
        } finally {
          await stranger.close();
        }
        await engine.destroy("kept");
      });

      test("credentials from the provider's configuration are used and never stored", async () => {
        const configured = await start(hostEnv(), {
          address: `${emulator.url}/`,
          apiKey: emulator.admin.apiKey,
        });
        try {
          await configured.up("from-config", { purpose: "config" });
          const outs = configured.outputs("from-config");
          expect(outs.serverUrl).toBe(emulator.url);
          // No connection argument: none stored (left out, as every bookkeeping field at its default).
          expect(outs.connection ?? null).toBeNull();
          expect(JSON.stringify(outs)).not.toContain(emulator.admin.apiKey);
          await configured.destroy("from-config");
          expect(emulator.liveKeys().some((k) => k.Purpose === "config")).toBe(false);
        } finally {
          await configured.close();
        }
      });

      test("a service account's access token works as the credential", async () => {
        const token = emulator.issueAccessToken(emulator.serviceAccount.id);
        const bearer = await start(
          hostEnv({ OCTOPUS_URL: emulator.url, OCTOPUS_ACCESS_TOKEN: token }),
        );
        try {
          await bearer.up("bearer", { purpose: "via token" });
          expect(bearer.outputs("bearer").userId).toBe(emulator.serviceAccount.id);
          await bearer.destroy("bearer");
        } finally {
          await bearer.close();
        }
      });
    }

    test("after the host is done, no secret appears in anything it printed", () => {
      const output = engine.output();
      expect(output).not.toContain(emulator.admin.apiKey);
      expect(output).not.toMatch(/API-[A-Z0-9]{16,}/);
    });
  });
}

/**
 * State as `engine`'s door keeps it: the dynamic host stores the provider text with the inputs
 * and outputs, and plain values (the SDK marks secrets); the plugin stores no provider text and
 * exactly `secrets` wrapped as secrets, the engine's form for a plugin that accepts them.
 */
function expectStoredForDoor(engine: DoorEngine, name: string, secrets: string[]): void {
  const stored = engine.state.get(name)!;
  if (engine.door === "dynamic") {
    expect(stored.inputs.__provider).toBe(engine.providerText);
    expect(stored.outputs.__provider).toBe(engine.providerText);
    expect(Object.keys(stored.outputs).filter((k) => isSecret(stored.outputs[k]))).toEqual([]);
  } else {
    expect(stored.inputs).not.toHaveProperty("__provider");
    expect(stored.outputs).not.toHaveProperty("__provider");
    const wrapped = Object.keys(stored.outputs).filter((k) => isSecret(stored.outputs[k]));
    expect(wrapped.sort()).toEqual([...secrets].sort());
    if (secrets.includes("connection")) expect(isSecret(stored.inputs.connection)).toBe(true);
  }
}
