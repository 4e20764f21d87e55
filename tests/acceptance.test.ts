import { Engine } from "../harness/engine";
import { HostCallError } from "../harness/host";

// Acceptance: the whole lifecycle through the real provider host against a real Octopus server.
// Runs only when asked to, with
//   OCTOPUS_ACC=1                      opt in (it creates and revokes real keys)
//   OCTOPUS_URL, OCTOPUS_API_KEY       the server, and an administrator's API key
//   OCTOPUS_ACC_SERVICE_ACCOUNT        username of a service account to make keys for
// Every key it makes is revoked at the end, by id, even when a step fails. Besides the lifecycle
// it checks the answers this package relies on (create body with UserId, revoke answer, the key
// fields of the server's version) and least-privilege keys (`accessLevel: "ReadOnly"`, 2026.3+).

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
    test("the server's answers: create body, key fields, revoke answer", () => undefined);
    test('least privilege: a "ReadOnly" key reads but cannot write', () => undefined);
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

    /** The server's root URL, as this package normalises it (a pasted `/api` suffix dropped). */
    const root = process.env.OCTOPUS_URL!.replace(/\/+$/, "").replace(/\/api$/i, "");
    /** A REST call with the administrator's key (never printed): status and parsed body. */
    const admin = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${root}${path}`, {
        method,
        headers: {
          "X-Octopus-ApiKey": process.env.OCTOPUS_API_KEY!,
          "content-type": "application/json",
          accept: "application/json",
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: response.status, text, json: json as Record<string, unknown> | undefined };
    };
    /** `[major, minor]` of the server's version, from `GET /api`. */
    const serverVersion = async (): Promise<[number, number]> => {
      const version = String((await admin("GET", "/api")).json?.Version ?? "");
      const [major, minor] = version.split(".").map(Number);
      if (!Number.isFinite(major) || !Number.isFinite(minor)) {
        throw new Error(`GET ${root}/api did not report a Version such as 2026.3.1234`);
      }
      return [major, minor];
    };
    const atLeast = ([major, minor]: [number, number], wanted: [number, number]) =>
      major > wanted[0] || (major === wanted[0] && minor >= wanted[1]);
    /** The service account's id, looked up by the administrator. */
    const serviceAccountId = async (): Promise<string> => {
      const page = await admin(
        "GET",
        `/api/users?filter=${encodeURIComponent(serviceAccount)}&take=100`,
      );
      const items = (page.json?.Items ?? []) as { Id: string; Username: string }[];
      const match = items.find((u) => u.Username.toLowerCase() === serviceAccount.toLowerCase());
      if (!match) throw new Error(`no user named ${serviceAccount} on ${root}`);
      return match.Id;
    };
    /** Ids of the user's live keys with `purpose`. */
    const keysWithPurpose = async (userId: string, purpose: string): Promise<string[]> => {
      const page = await admin("GET", `/api/users/${userId}/apikeys?take=1000`);
      const items = (page.json?.Items ?? []) as { Id: string; Purpose: string }[];
      return items.filter((k) => k.Purpose?.trim() === purpose).map((k) => k.Id);
    };
    /** Keys made here outside the provider: revoked by id with the administrator's key. */
    const madeDirectly: { userId: string; id: string }[] = [];

    beforeAll(async () => {
      engine = await Engine.start({ env: process.env });
    }, STEP_TIMEOUT_MS);

    afterAll(async () => {
      const failures: string[] = [];
      for (const { userId, id } of madeDirectly) {
        const revoked = await admin("DELETE", `/api/users/${userId}/apikeys/${id}`).catch(
          (error: unknown) => ({ status: 0, text: (error as Error).message }),
        );
        if (revoked.status !== 404 && (revoked.status < 200 || revoked.status > 299)) {
          failures.push(`${id} (of ${userId}): HTTP ${revoked.status}`);
        }
      }
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

    test(
      "the server's answers: create body with UserId accepted, key fields of its version, revoke any 2xx",
      async () => {
        const version = await serverVersion();
        const userId = await serviceAccountId();
        const purpose = `pulumi-octopus-apikey acceptance answers ${run}`;
        const created = await admin("POST", `/api/users/${userId}/apikeys`, {
          Purpose: purpose,
          UserId: userId,
          Expires: new Date(Date.now() + 86_400_000).toISOString(),
        });
        const id = typeof created.json?.Id === "string" ? created.json.Id : undefined;
        if (id) madeDirectly.push({ userId, id });
        expect(created.status >= 200 && created.status < 300).toBe(true);
        expect(id).toMatch(/^apikeys-/i);
        expect(typeof created.json?.ApiKey).toBe("string");

        const read = await admin("GET", `/api/users/${userId}/apikeys/${id}`);
        expect(read.status).toBe(200);
        const fields = Object.keys(read.json ?? {});
        expect(fields).toEqual(expect.arrayContaining(["Id", "Purpose", "UserId", "Created"]));
        const since2026_3 = ["AccessLevel", "IsLastUsedTimestampKnown", "LastUsedTimeStamp"];
        if (atLeast(version, [2026, 3])) {
          expect(fields).toEqual(expect.arrayContaining(since2026_3));
          expect(read.json?.LastUsedTimeStamp ?? null).toBeNull();
          expect(read.json?.AccessLevel).toBe("FullAccess");
        }

        const revoked = await admin("DELETE", `/api/users/${userId}/apikeys/${id}`);
        expect(revoked.status >= 200 && revoked.status < 300).toBe(true);
        expect((await admin("GET", `/api/users/${userId}/apikeys/${id}`)).status).toBe(404);
        console.log(
          `acceptance: Octopus ${version.join(".")}; create answered ${created.status}; ` +
            `key fields ${fields.sort().join(", ")}; revoke answered ${revoked.status} with ` +
            (revoked.text.length === 0 ? "an empty body" : `${revoked.text.length} bytes`),
        );
      },
      STEP_TIMEOUT_MS,
    );

    test(
      'least privilege: a "ReadOnly" key reads but cannot write (2026.3+); older servers refuse it and keep no key',
      async () => {
        const version = await serverVersion();
        const RO = "read-only";
        const purpose = `pulumi-octopus-apikey acceptance read-only ${run}`;
        const readOnly = {
          purpose,
          username: serviceAccount,
          expiresIn: "1d",
          accessLevel: "ReadOnly",
        };
        if (!atLeast(version, [2026, 3])) {
          const error = await step((e) => e.up(RO, readOnly)).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(HostCallError);
          expect((error as Error).message).toMatch(/accessLevel "ReadOnly" needs Octopus 2026\.3/);
          expect(await keysWithPurpose(await serviceAccountId(), purpose)).toEqual([]);
          console.log(
            `acceptance: Octopus ${version.join(".")} has no read-only keys; the create failed and left no key, as it should`,
          );
          return;
        }

        expect(await step((e) => e.up(RO, readOnly))).toEqual({ step: "create" });
        const { id, outputs } = engine!.state.get(RO)!;
        expect(outputs.accessLevel).toBe("ReadOnly");
        const serverUrl = outputs.serverUrl as string;
        const apiKey = outputs.apiKey as string;
        expect(await authenticatesAs(serverUrl, apiKey)).toBe(outputs.userId);

        // A write the key's user may make with full access: a key for itself.
        const write = await fetch(`${serverUrl}/api/users/${String(outputs.userId)}/apikeys`, {
          method: "POST",
          headers: { "X-Octopus-ApiKey": apiKey, "content-type": "application/json" },
          body: JSON.stringify({
            Purpose: `${purpose} (write attempt)`,
            UserId: outputs.userId,
            Expires: new Date(Date.now() + 86_400_000).toISOString(),
          }),
        });
        const wrote = (await write.json().catch(() => undefined)) as { Id?: unknown } | undefined;
        if (write.ok && typeof wrote?.Id === "string") {
          madeDirectly.push({ userId: outputs.userId as string, id: wrote.Id });
        }
        expect(write.status).toBe(403);

        // Used: refresh reports when (Octopus may record use with a delay, so look a few times).
        let lastUsed: unknown = null;
        for (let look = 0; look < 4 && lastUsed === null; look++) {
          if (look > 0) await new Promise((resolve) => setTimeout(resolve, 5_000));
          expect(await step((e) => e.refresh(RO))).toBe("kept");
          lastUsed = engine!.state.get(RO)!.outputs.lastUsed;
        }
        if (lastUsed === null) {
          console.log("acceptance: lastUsed still null 15 s after the key was used");
        } else {
          expect(
            typeof lastUsed === "string" && Date.parse(lastUsed) > Date.now() - 3_600_000,
          ).toBe(true);
        }

        await step((e) => e.destroy(RO));
        expect(await isLive(id, outputs)).toBe(false);
      },
      STEP_TIMEOUT_MS,
    );
  });
}
