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
import { forwardTo } from "./forward";

// A connection is a unit, through one front door (the dynamic provider host or the plugin): a
// credential from a source that also names an address (the provider's config with its address
// setting, the environment with OCTOPUS_URL) goes only to that address; a bare OCTOPUS_API_KEY
// goes to the address the resource uses; the connection argument's own credential always wins
// and is never mixed with ambient ones. Otherwise the call fails before sending, naming where
// each setting came from.

/**
 * An emulator behind a proxy that records each credential requests carried (the key policy, read
 * without one, records nothing).
 */
interface Recorded {
  emulator: OctopusEmulator;
  url: string;
  credentials: string[];
  close(): Promise<void>;
}

async function recorded(): Promise<Recorded> {
  const emulator = await OctopusEmulator.start();
  const { forward, close } = forwardTo(emulator.url);
  const credentials: string[] = [];
  const server = http.createServer((req, res) => {
    const credential = req.headers["x-octopus-apikey"] ?? req.headers.authorization;
    if (credential !== undefined) credentials.push(String(credential));
    forward(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    emulator,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    credentials,
    async close() {
      close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await emulator.close();
    },
  };
}

/** The connection rules through `door`. */
export function connectionUnitSuite(door: Door): void {
  let a: Recorded;
  let b: Recorded;
  const engines: DoorEngine[] = [];

  async function start(env: Record<string, string>, config?: DoorConfig) {
    const engine = await startEngine(door, { env: hostEnv(env), config });
    engines.push(engine);
    return engine;
  }

  beforeAll(async () => {
    [a, b] = await Promise.all([recorded(), recorded()]);
  });

  afterAll(async () => {
    await Promise.all(engines.map((e) => e.close()));
    await Promise.all([a?.close(), b?.close()]);
  });

  beforeEach(() => {
    a.credentials.length = 0;
    b.credentials.length = 0;
  });

  describe("a program's address with a bare OCTOPUS_API_KEY, later the ambient settings name B", () => {
    test.each([
      ["the environment", "OCTOPUS_URL", false],
      ["provider config", nameOfSetting(door, "address"), true],
    ])(
      "with B named by %s, preview, refresh and destroy send B's key nowhere, and A nothing",
      async (_where, source, viaConfig) => {
        const program = { purpose: `migrated ${source}`, connection: { address: a.url } };
        const first = await start({ OCTOPUS_API_KEY: a.emulator.admin.apiKey });
        await first.up("migrated", program);
        expect(a.credentials.length).toBeGreaterThan(0);
        expect(new Set(a.credentials)).toEqual(new Set([a.emulator.admin.apiKey]));
        const stored = first.state.get("migrated")!;

        const bKey = b.emulator.admin.apiKey;
        const later = viaConfig
          ? await start({}, { address: b.url, apiKey: bKey })
          : await start({ OCTOPUS_URL: b.url, OCTOPUS_API_KEY: bKey });
        later.state.set("migrated", stored);
        a.credentials.length = 0;

        const preview = await failureMessage(later.up("migrated", program));
        expect(preview).toContain(`goes with the server ${source} names (${b.url})`);
        expect(preview).toContain(`not with ${a.url} (from connection.address)`);
        const refreshed = await failureMessage(later.refresh("migrated"));
        expect(refreshed).toContain(`lives on ${a.url}`);
        expect(refreshed).toContain(`goes with the server ${source} names`);
        const destroyed = await failureMessage(later.destroy("migrated"));
        expect(destroyed).toContain(`lives on ${a.url}`);
        for (const message of [preview, refreshed, destroyed]) expect(message).not.toContain(bKey);

        expect(a.credentials).toEqual([]);
        expect(b.credentials).toEqual([]);
        expect(later.state.get("migrated")).toEqual(stored);
        await first.destroy("migrated");
        expect(a.emulator.hasKey(stored.id)).toBe(false);
      },
    );
  });

  test("a new key for the program's address X is not made with the environment's key for B", async () => {
    const engine = await start({ OCTOPUS_URL: b.url, OCTOPUS_API_KEY: b.emulator.admin.apiKey });
    const program = { purpose: "new on X", connection: { address: a.url } };
    const message = await failureMessage(engine.up("new", program));
    expect(message).toContain("the credential in OCTOPUS_API_KEY goes with the server OCTOPUS_URL");
    expect(message).toMatch(/Give the connection argument its own apiKey or accessToken/);
    // The engine would not create after a failed check; the provider refuses even if asked.
    const create = engine.raw.create("new", program);
    expect(await failureMessage(create)).toContain("goes with the server OCTOPUS_URL");
    expect(a.credentials).toEqual([]);
    expect(b.credentials).toEqual([]);
  });

  test("state edited so that serverUrl and the stored connection name X gets the environment's key nowhere", async () => {
    const engine = await start({ OCTOPUS_URL: a.url, OCTOPUS_API_KEY: a.emulator.admin.apiKey });
    await engine.up("edited", { purpose: "edited to X" });
    const stored = engine.state.get("edited")!;
    engine.state.set("edited", {
      ...stored,
      outputs: { ...stored.outputs, serverUrl: b.url, connection: { address: b.url } },
    });
    a.credentials.length = 0;
    expect(await failureMessage(engine.refresh("edited"))).toContain(
      `goes with the server OCTOPUS_URL names (${a.url}), not with ${b.url}`,
    );
    await failureMessage(engine.destroy("edited"));
    expect(b.credentials).toEqual([]);
    expect(a.credentials).toEqual([]);
    engine.state.set("edited", stored);
    await engine.destroy("edited");
  });

  test.each([
    ["a bare OCTOPUS_API_KEY", false],
    ["OCTOPUS_URL and OCTOPUS_API_KEY for another server", true],
  ])(
    "the program's access token beats %s: the program's server sees only the token",
    async (_what, withUrl) => {
      const token = a.emulator.issueAccessToken(a.emulator.serviceAccount.id);
      const ambient = b.emulator.admin.apiKey;
      const engine = await start(
        withUrl ? { OCTOPUS_URL: b.url, OCTOPUS_API_KEY: ambient } : { OCTOPUS_API_KEY: ambient },
      );
      const program = { purpose: "token wins", connection: { address: a.url, accessToken: token } };
      await engine.up("token", program);
      expect(await engine.refresh("token")).toBe("kept");
      await engine.destroy("token");
      expect(a.credentials.length).toBeGreaterThanOrEqual(3);
      expect(new Set(a.credentials)).toEqual(new Set([`Bearer ${token}`]));
      expect(b.credentials).toEqual([]);
    },
  );

  describe("keeps working", () => {
    test("a bare OCTOPUS_API_KEY goes to the address the resource gives", async () => {
      const engine = await start({ OCTOPUS_API_KEY: a.emulator.admin.apiKey });
      await engine.up("bare", { purpose: "bare key", connection: { address: a.url } });
      await engine.destroy("bare");
      expect(new Set(a.credentials)).toEqual(new Set([a.emulator.admin.apiKey]));
    });

    test("the same server spelled differently (trailing slash, /api) takes the environment's key", async () => {
      const engine = await start({
        OCTOPUS_URL: `${a.url}/api/`,
        OCTOPUS_API_KEY: a.emulator.admin.apiKey,
      });
      await engine.up("spelled", { purpose: "spelled", connection: { address: `${a.url}/` } });
      expect(await engine.refresh("spelled")).toBe("kept");
      await engine.destroy("spelled");
      expect(new Set(a.credentials)).toEqual(new Set([a.emulator.admin.apiKey]));
    });

    test("the provider config's key goes with its address, though the environment names another", async () => {
      const engine = await start(
        { OCTOPUS_URL: b.url, OCTOPUS_API_KEY: b.emulator.admin.apiKey },
        { address: a.url, apiKey: a.emulator.admin.apiKey },
      );
      await engine.up("config", { purpose: "config wins" });
      expect(engine.outputs("config").serverUrl).toBe(a.url);
      await engine.destroy("config");
      expect(new Set(a.credentials)).toEqual(new Set([a.emulator.admin.apiKey]));
      expect(b.credentials).toEqual([]);
    });
  });
}
