import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { OctopusEmulator } from "../../emulator/server";
import { failureMessage, hostEnv } from "../../harness/engine";
import {
  type Door,
  type DoorConfig,
  type DoorEngine,
  nameOfSetting,
  startEngine,
} from "../../harness/doors";

// A credential goes only to the server it was configured for, through one front door (the
// dynamic provider host or the plugin): refresh and destroy send a provider-config or
// environment credential only when the configured address is the server the key lives on;
// otherwise they fail before any request, naming that server and where the configured address
// came from (the door's own name for the setting), and refresh keeps the resource.

/** The pinning rules through `door`. */
export function pinningSuite(door: Door): void {
  let a: OctopusEmulator;
  let b: OctopusEmulator;
  /** An attacker's server: counts what reaches it. */
  let attacker: http.Server;
  let attackerUrl: string;
  const reachedAttacker: string[] = [];
  const engines: DoorEngine[] = [];
  const configName = nameOfSetting(door, "address");

  async function start(env: Record<string, string>, config?: DoorConfig) {
    const engine = await startEngine(door, { env: hostEnv(env), config });
    engines.push(engine);
    return engine;
  }

  const onA = () => ({ OCTOPUS_URL: a.url, OCTOPUS_API_KEY: a.admin.apiKey });
  const onB = () => ({ OCTOPUS_URL: b.url, OCTOPUS_API_KEY: b.admin.apiKey });

  beforeAll(async () => {
    [a, b] = await Promise.all([OctopusEmulator.start(), OctopusEmulator.start()]);
    attacker = http.createServer((req, res) => {
      reachedAttacker.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)}`);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
    await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
    attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await Promise.all(engines.map((e) => e.close()));
    attacker?.closeAllConnections();
    await new Promise((resolve) => attacker?.close(resolve));
    await Promise.all([a?.close(), b?.close()]);
  });

  describe("config moved from server A to server B", () => {
    test.each([
      ["the environment", "OCTOPUS_URL", false],
      ["provider config", configName, true],
    ])(
      "refresh and destroy of a key on A (address from %s) send nothing to A, and refresh keeps it",
      async (_where, source, viaConfig) => {
        const first = await start(onA());
        await first.up("moved", { purpose: `moved ${source}` });
        const stored = first.state.get("moved")!;
        expect(stored.outputs.serverUrl).toBe(a.url);

        const moved = viaConfig
          ? await start({}, { address: b.url, apiKey: b.admin.apiKey })
          : await start(onB());
        moved.state.set("moved", stored);
        a.resetStats();
        b.resetStats();

        const refreshed = await failureMessage(moved.refresh("moved"));
        expect(refreshed).toContain(`lives on ${a.url}`);
        expect(refreshed).toContain(`${b.url} (from ${source})`);
        expect(refreshed).toContain(`set OCTOPUS_URL or ${configName}`);
        expect(refreshed).toMatch(/connection argument/);
        expect(moved.state.get("moved")).toEqual(stored);

        const destroyed = await failureMessage(moved.destroy("moved"));
        expect(destroyed).toContain(`lives on ${a.url}`);
        expect(moved.state.has("moved")).toBe(true);

        // A never saw B's key, nor anything else; B was not asked about A's key either.
        expect(a.stats.requests).toBe(0);
        expect(b.stats.requests).toBe(0);
        expect(refreshed + destroyed).not.toContain(b.admin.apiKey);

        // Pointed at A again, with A's key, the same state refreshes and destroys.
        expect(await first.refresh("moved")).toBe("kept");
        await first.destroy("moved");
        expect(a.hasKey(stored.id)).toBe(false);
      },
    );

    test("a key created with its own connection argument still uses it, wherever config points", async () => {
      const first = await start({});
      const connection = { address: a.url, apiKey: a.admin.apiKey };
      await first.up("own", { purpose: "own connection", connection });
      const stored = first.state.get("own")!;

      const moved = await start(onB());
      moved.state.set("own", stored);
      b.resetStats();
      expect(await moved.refresh("own")).toBe("kept");
      await moved.destroy("own");
      expect(a.hasKey(stored.id)).toBe(false);
      expect(b.stats.requests).toBe(0);
    });
  });

  describe("state edited to point serverUrl at another server", () => {
    test.each([
      ["a credential from the environment", false],
      ["the resource's own connection argument", true],
    ])("%s never reaches it", async (_how, ownConnection) => {
      const engine = await start(onA());
      const program = ownConnection
        ? { purpose: "edited", connection: { address: a.url, apiKey: a.admin.apiKey } }
        : { purpose: "edited" };
      await engine.up("edited", program);
      const stored = engine.state.get("edited")!;
      engine.state.set("edited", {
        ...stored,
        outputs: { ...stored.outputs, serverUrl: attackerUrl },
      });
      reachedAttacker.length = 0;

      const refreshed = await failureMessage(engine.refresh("edited"));
      expect(refreshed).toContain(`lives on ${attackerUrl}`);
      expect(engine.state.has("edited")).toBe(true);
      await failureMessage(engine.destroy("edited"));
      expect(reachedAttacker).toEqual([]);

      // The key is still where it was made; the unedited state removes it.
      engine.state.set("edited", stored);
      await engine.destroy("edited");
      expect(a.hasKey(stored.id)).toBe(false);
    });
  });

  describe("the API root as the address", () => {
    test.each(["/api", "/api/"])(
      "%s means the server itself, and nothing asks for /api/api",
      async (suffix) => {
        const engine = await start({
          OCTOPUS_URL: `${a.url}${suffix}`,
          OCTOPUS_API_KEY: a.admin.apiKey,
        });
        a.resetStats();
        await engine.up("root", { purpose: `api root ${suffix}` });
        expect(engine.outputs("root").serverUrl).toBe(a.url);
        expect((await engine.up("root", { purpose: `api root ${suffix}` })).step).toBe("same");
        expect(await engine.refresh("root")).toBe("kept");
        await engine.destroy("root");
        const routes = Object.keys(a.stats.byRoute);
        expect(routes.filter((r) => r.includes("(other)"))).toEqual([]);
        expect(routes).toContain("POST /api/users/{id}/apikeys");
      },
    );
  });

  describe("errors name where a setting came from", () => {
    test("a refused API key from OCTOPUS_API_KEY is named so, with the server it was refused by", async () => {
      const engine = await start(onA());
      await engine.up("named", { purpose: "named source" });
      const user = a.addUser({ username: "short-lived-admin", isAdmin: true });
      const revoked = a.createKey(user.id, { purpose: "soon revoked" });
      const later = await start({ OCTOPUS_URL: a.url, OCTOPUS_API_KEY: revoked.secret });
      later.state.set("named", engine.state.get("named")!);
      a.revokeKey(revoked.id);
      const message = await failureMessage(later.refresh("named"));
      expect(message.toLowerCase()).toContain(
        `the api key (from octopus_api_key) was refused by ${a.url}`,
      );
      expect(message).not.toMatch(/access token/);
      expect(message).not.toContain(revoked.secret);
      await engine.destroy("named");
    });

    // The transport's own message names the source of the address it could not reach.
    test("a refused connection with the address from OCTOPUS_URL names OCTOPUS_URL, not connection.address", async () => {
      const closed = http.createServer();
      await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
      const engine = await start({
        OCTOPUS_URL: `http://127.0.0.1:${port}`,
        OCTOPUS_API_KEY: a.admin.apiKey,
      });
      const message = await failureMessage(engine.up("refused", { purpose: "refused" }));
      expect(message).toMatch(/ECONNREFUSED|ERR_SOCKET_CLOSED_BEFORE_CONNECTION/);
      expect(message).toContain("OCTOPUS_URL");
      expect(message).not.toContain("connection.address");
    });
  });
}
