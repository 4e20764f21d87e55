import { Engine } from "./support/engine";
import { HostCallError } from "./support/host";

// Acceptance: the whole lifecycle through the real provider host against a real Octopus server.
// Runs only when asked to, with
//   OCTOPUS_ACC=1                      opt in (it creates and revokes real keys)
//   OCTOPUS_URL, OCTOPUS_API_KEY       the server, and an administrator's API key
//   OCTOPUS_ACC_SERVICE_ACCOUNT        username of a service account to make keys for
// Every key it makes is revoked at the end, by id, even when a step fails.

const REQUIRED = ["OCTOPUS_URL", "OCTOPUS_API_KEY", "OCTOPUS_ACC_SERVICE_ACCOUNT"] as const;
const requested = process.env.OCTOPUS_ACC === "1";
const missing = REQUIRED.filter((name) => !process.env[name]);
const STEP_TIMEOUT_MS = 120_000;

if (!requested) {
  const why =
    "skipped: set OCTOPUS_ACC=1 with OCTOPUS_URL, OCTOPUS_API_KEY and OCTOPUS_ACC_SERVICE_ACCOUNT to run it against a real Octopus server";
  console.log(`acceptance test ${why}`);
  describe.skip(`acceptance against a real Octopus server (${why})`, () => {
    test("create, refresh, rotate and revoke a service account's key", () => undefined);
  });
} else if (missing.length > 0) {
  test("acceptance against a real Octopus server: its settings are complete", () => {
    throw new Error(
      `OCTOPUS_ACC=1 but ${missing.join(", ")} not set; set them or unset OCTOPUS_ACC`,
    );
  });
} else {
  describe("acceptance against a real Octopus server", () => {
    const serviceAccount = process.env.OCTOPUS_ACC_SERVICE_ACCOUNT as string;
    const run = `${new Date().toISOString()} ${Math.random().toString(36).slice(2, 8)}`;
    const program = (generation: string) => ({
      purpose: `pulumi-octopus-apikey acceptance ${run}`,
      username: serviceAccount,
      expiresIn: "1d",
      rotationTriggers: { generation },
    });
    const NAME = "acceptance";
    let engine: Engine | undefined;
    /** Every key this run made, with the outputs that delete needs: revoked in afterAll. */
    const made = new Map<string, Record<string, unknown>>();

    const track = (error?: unknown) => {
      for (const stored of engine?.state.values() ?? []) made.set(stored.id, stored.outputs);
      if (error instanceof HostCallError && error.partial?.id) {
        made.set(error.partial.id, error.partial.properties);
      }
    };
    /** One engine step, remembering whatever key it made, even if it fails. */
    async function step<T>(body: (e: Engine) => Promise<T>): Promise<T> {
      if (!engine) throw new Error("the provider host did not start");
      try {
        return await body(engine);
      } catch (error) {
        track(error);
        throw error;
      } finally {
        track();
      }
    }
    const stored = () => {
      const s = engine?.state.get(NAME);
      if (!s) throw new Error("an earlier step did not leave the key in state");
      return s;
    };
    /** What the server says about a key now, through a read as `pulumi refresh` makes it. */
    const isLive = async (id: string, outputs: Record<string, unknown>) =>
      (await engine!.host.read(id, engine!.urn(NAME), outputs)).id === id;
    const authenticatesAs = async (serverUrl: string, apiKey: string) => {
      const response = await fetch(`${serverUrl}/api/users/me`, {
        headers: { "X-Octopus-ApiKey": apiKey },
      });
      return response.ok
        ? ((await response.json()) as { Id: string }).Id
        : `HTTP ${response.status}`;
    };

    beforeAll(async () => {
      engine = await Engine.start({ env: process.env });
    }, STEP_TIMEOUT_MS);

    afterAll(async () => {
      const failures: string[] = [];
      for (const [id, outputs] of made) {
        try {
          // Delete treats an already revoked key as done, so every key is simply deleted again.
          await engine?.host.delete(id, engine.urn(NAME), outputs);
        } catch (error) {
          failures.push(`${id}: ${(error as Error).message}`);
        }
      }
      await engine?.close();
      if (failures.length > 0) {
        throw new Error(
          `could not revoke keys made by this run; revoke them by hand:\n${failures.join("\n")}`,
        );
      }
    }, STEP_TIMEOUT_MS);

    test(
      "create: a key for the service account that works and expires in a day",
      async () => {
        expect(await step((e) => e.up(NAME, program("1")))).toEqual({ step: "create" });
        const { id, outputs } = stored();
        expect(id).toMatch(/^apikeys-/i);
        expect(String(outputs.username).toLowerCase()).toBe(serviceAccount.toLowerCase());
        expect(outputs.apiKey).toMatch(/^API-/);
        const expires = Date.parse(outputs.expires as string);
        expect(Math.abs(expires - (Date.now() + 86_400_000))).toBeLessThan(60 * 60_000);
        expect(await authenticatesAs(outputs.serverUrl as string, outputs.apiKey as string)).toBe(
          outputs.userId,
        );
      },
      STEP_TIMEOUT_MS,
    );

    test(
      "refresh: the key is still there and its secret is kept",
      async () => {
        const before = stored().outputs;
        expect(await step((e) => e.refresh(NAME))).toBe("kept");
        expect(stored().outputs.apiKey).toBe(before.apiKey);
        expect(stored().outputs.expired).toBe(false);
        expect(await step((e) => e.up(NAME, program("1")))).toEqual({ step: "same" });
      },
      STEP_TIMEOUT_MS,
    );

    test(
      "rotate: a new rotation trigger makes the new key first, then revokes the old one",
      async () => {
        const old = stored();
        const news = { ...program("2"), __provider: engine!.providerText };
        const checked = await step((e) => e.host.check(e.urn(NAME), old.inputs, news));
        const diff = await step((e) =>
          e.host.diff(old.id, e.urn(NAME), old.outputs, checked.inputs),
        );
        expect(diff).toEqual({
          changes: "some",
          replaces: ["rotationTriggers"],
          deleteBeforeReplace: false,
        });

        expect(await step((e) => e.up(NAME, program("2")))).toEqual({
          step: "replace",
          replaces: ["rotationTriggers"],
        });
        const rotated = stored();
        expect(rotated.id).not.toBe(old.id);
        expect(await isLive(old.id, old.outputs)).toBe(false);
        expect(await isLive(rotated.id, rotated.outputs)).toBe(true);
        const serverUrl = rotated.outputs.serverUrl as string;
        expect(await authenticatesAs(serverUrl, rotated.outputs.apiKey as string)).toBe(
          rotated.outputs.userId,
        );
        expect(await authenticatesAs(serverUrl, old.outputs.apiKey as string)).toBe("HTTP 401");
      },
      STEP_TIMEOUT_MS,
    );

    test(
      "destroy: the key is revoked on the server",
      async () => {
        const last = stored();
        await step((e) => e.destroy(NAME));
        expect(await isLive(last.id, last.outputs)).toBe(false);
        expect(
          await authenticatesAs(last.outputs.serverUrl as string, last.outputs.apiKey as string),
        ).toBe("HTTP 401");
      },
      STEP_TIMEOUT_MS,
    );
  });
}
