import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { Client, userGetCurrent } from "@octopusdeploy/api-client";
import { parseArgs, UsageError } from "../emulator/cli";
import { isLoopbackAddress, isLoopbackHost } from "../emulator/loopback";
import { OctopusEmulator } from "../emulator/server";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function getJson(
  url: string,
  key?: string,
): Promise<{ status: number; json: Json; bytes: number; type: string }> {
  const res = await fetch(url, { headers: key ? { "X-Octopus-ApiKey": key } : {} });
  const text = await res.text();
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return {
    status: res.status,
    json,
    bytes: Buffer.byteLength(text),
    type: res.headers.get("content-type") ?? "",
  };
}

describe("hosted under a base path", () => {
  let emu: OctopusEmulator;
  beforeAll(async () => {
    emu = await OctopusEmulator.start({ basePath: "/octopus/" });
  });
  afterAll(() => emu.close());

  test("the URL and every link carry the base path", async () => {
    expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/octopus$/);
    const origin = new URL(emu.url).origin;
    const root = await getJson(`${emu.url}/api`);
    expect(root.status).toBe(200);
    expect(root.json.Links.CurrentUser).toBe("/octopus/api/users/me");
    const me = await getJson(`${origin}${root.json.Links.CurrentUser}`, emu.admin.apiKey);
    expect(me.json.Links.Self).toBe(`/octopus/api/users/${emu.admin.id}`);
    const list = await getJson(`${emu.url}/api/users?take=1`, emu.admin.apiKey);
    expect(list.json.Links["Page.Next"]).toBe("/octopus/api/users?skip=1&take=1");
  });

  test("requests outside the base path are not the API", async () => {
    const origin = new URL(emu.url).origin;
    const outside = await getJson(`${origin}/api/users/me`, emu.admin.apiKey);
    expect(outside.status).toBe(404);
    expect(outside.type).toMatch(/^text\/html/);
  });

  test("the official api-client connects through the base path", async () => {
    const client = await Client.create({
      instanceURL: `${emu.url}/`,
      apiKey: emu.admin.apiKey,
      userAgentApp: "emulator-test",
    });
    expect((await userGetCurrent(client)).Username).toBe("admin");
  });

  test("fault paths are matched after the base path", async () => {
    emu.faults.add({ path: /^\/api\/users\/me$/, kind: "status", status: 500 });
    expect((await getJson(`${emu.url}/api/users/me`, emu.admin.apiKey)).status).toBe(500);
    emu.faults.clear();
  });
});

describe("10,000 users", () => {
  let emu: OctopusEmulator;
  beforeAll(async () => {
    emu = await OctopusEmulator.start({ users: 10_000 });
  });
  afterAll(() => emu.close());

  test("a filtered lookup stays fast and small next to /api/users/all", async () => {
    emu.resetStats();
    const t0 = performance.now();
    const found = await getJson(`${emu.url}/api/users?filter=user-09876`, emu.admin.apiKey);
    const ms = performance.now() - t0;
    expect(found.json.TotalResults).toBe(1);
    expect(found.json.Items[0].Username).toBe("user-09876");
    expect(ms).toBeLessThan(1000);
    const filteredBytes = emu.stats.bytesOut;
    expect(filteredBytes).toBe(found.bytes);

    const all = await getJson(`${emu.url}/api/users/all`, emu.admin.apiKey);
    expect(all.json).toHaveLength(10_003);
    expect(emu.stats.bytesOut - filteredBytes).toBe(all.bytes);
    expect(all.bytes).toBeGreaterThan(filteredBytes * 1000);
  });

  test("a broad filter pages through everyone with Page.Next", async () => {
    const origin = new URL(emu.url).origin;
    let page = await getJson(`${emu.url}/api/users?filter=USER-&take=1000`, emu.admin.apiKey);
    let count = 0;
    for (;;) {
      count += page.json.Items.length;
      const next = page.json.Links["Page.Next"];
      if (!next) break;
      page = await getJson(`${origin}${next}`, emu.admin.apiKey);
    }
    expect(count).toBe(10_000);
  });
});

describe("cli", () => {
  let child: ChildProcessWithoutNullStreams | undefined;
  afterEach(() => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
  });

  test("prints OCTOPUS_URL and OCTOPUS_API_KEY, serves them, and stops cleanly on SIGTERM", async () => {
    const cli = resolve(__dirname, "../emulator/cli.js");
    const proc = spawn(process.execPath, [cli, "--port", "0", "--users", "3"]);
    child = proc;
    const exited = new Promise<number | null>((done) => proc.on("exit", (code) => done(code)));
    const lines: string[] = [];
    const env: Record<string, string> = {};
    const rl = createInterface({ input: proc.stdout });
    await new Promise<void>((done, fail) => {
      rl.on("line", (line) => {
        lines.push(line);
        const m = /^(OCTOPUS_URL|OCTOPUS_API_KEY)=(.*)$/.exec(line);
        if (m) env[m[1]] = m[2];
        if (env.OCTOPUS_URL && env.OCTOPUS_API_KEY) done();
      });
      proc.on("exit", (code) =>
        fail(new Error(`cli exited early with ${code}: ${lines.join("\n")}`)),
      );
    });
    expect(env.OCTOPUS_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(env.OCTOPUS_API_KEY).toMatch(/^API-[A-Z0-9]{26,27}$/);

    const me = await getJson(`${env.OCTOPUS_URL}/api/users/me`, env.OCTOPUS_API_KEY);
    expect(me.json).toMatchObject({ Username: "admin" });
    const all = await getJson(`${env.OCTOPUS_URL}/api/users/all`, env.OCTOPUS_API_KEY);
    expect(all.json).toHaveLength(6);

    proc.kill("SIGTERM");
    expect(await exited).toBe(0);
    rl.close();
    const text = lines.join("\n");
    expect(text).toMatch(/ci-bot/);
    expect(text).toMatch(/service account/);
    // The administrator's key is the only secret the CLI prints.
    expect(text.match(/API-[A-Z0-9]{26,27}/g)).toEqual([env.OCTOPUS_API_KEY]);
  });

  test("--profile picks the Octopus version the server behaves like", async () => {
    const cli = resolve(__dirname, "../emulator/cli.js");
    const proc = spawn(process.execPath, [cli, "--port", "0", "--profile", "2025.3"]);
    child = proc;
    const exited = new Promise<number | null>((done) => proc.on("exit", (code) => done(code)));
    const rl = createInterface({ input: proc.stdout });
    const lines: string[] = [];
    const url = await new Promise<string>((done) => {
      rl.on("line", (line) => {
        lines.push(line);
        if (line.startsWith("# Octopus Deploy emulator"))
          done(/^OCTOPUS_URL=(.*)$/.exec(lines[0])![1]);
      });
    });
    expect(lines.join("\n")).toMatch(/behaving like Octopus 2025\.3/);
    expect((await getJson(`${url}/api`)).json.Version).toBe("2025.3.5000");
    proc.kill("SIGTERM");
    expect(await exited).toBe(0);
    rl.close();
  });

  test("parses every option flag, and refuses values it does not know", () => {
    expect(
      parseArgs([
        "--profile=2025.4",
        "--delete-answer",
        "noContent204",
        "--default-expiry-vs-caller",
        "clip",
        "--expires-precision",
        "s",
        "--error-bodies",
        "helpText",
        "--user-api-keys-disabled",
        "--date-header-offset=-3000",
        "--key-list-order",
        "byId",
        "--key-list-filters",
        "ignored",
        "--wrong-owner-answer",
        "notFound",
        "--authentication-endpoint",
        "administrators",
        "--actor-type-on-create",
        "ignored",
      ]),
    ).toEqual({
      port: 8065,
      profile: "2025.4",
      deleteAnswer: "noContent204",
      defaultExpiryVsCaller: "clip",
      expiresPrecision: "s",
      errorBodies: "helpText",
      userApiKeysEnabled: false,
      dateHeaderOffsetMs: -3000,
      keyListOrder: "byId",
      keyListFilters: "ignored",
      wrongOwnerAnswer: "notFound",
      authenticationEndpoint: "administrators",
      actorTypeOnCreate: "ignored",
    });
    expect(parseArgs(["--expires-precision", "datetime"]).expiresPrecision).toBe("datetime");
    expect(parseArgs(["--no-user-api-keys-setting"]).userApiKeysSetting).toBe(false);
    expect(() => parseArgs(["--date-header-offset", "1.5"])).toThrow(/integer/);
    expect(() => parseArgs(["--authentication-endpoint", "open"])).toThrow(
      /anonymous, authenticated, administrators, missing/,
    );
    expect(parseArgs(["--legacy-no-expiry"]).profile).toBe("2025.3");
    expect(() => parseArgs(["--profile", "2024.1"])).toThrow(UsageError);
    expect(() => parseArgs(["--profile", "2024.1"])).toThrow(/2025\.3, 2025\.4, 2026\.3/);
    expect(() => parseArgs(["--delete-answer", "maybe"])).toThrow(/json, noContent204, empty200/);
    expect(() => parseArgs(["--error-bodies"])).toThrow(/got nothing/);
  });

  test("rejects unknown arguments with a usage message", async () => {
    const cli = resolve(__dirname, "../emulator/cli.js");
    const proc = spawn(process.execPath, [cli, "--bogus"]);
    child = proc;
    let stderr = "";
    proc.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((done) => proc.on("exit", (c) => done(c)));
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown argument: --bogus[\s\S]*usage:/);
  });
});

describe("--seed: a predictable administrator key, on loopback only", () => {
  test("the same seed gives the same administrator key", async () => {
    const a = await OctopusEmulator.start({ seed: 5 });
    const b = await OctopusEmulator.start({ seed: 5 });
    const c = await OctopusEmulator.start({ seed: 6 });
    try {
      expect(a.admin.apiKey).toBe(b.admin.apiKey);
      expect(c.admin.apiKey).not.toBe(a.admin.apiKey);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  test("loopback addresses and names are told from the others", async () => {
    for (const address of [
      "127.0.0.1",
      "127.8.9.10",
      "::1",
      "[::1]",
      "0:0:0:0:0:0:0:1",
      "::ffff:127.0.0.1",
    ]) {
      expect(isLoopbackAddress(address)).toBe(true);
    }
    for (const address of [
      "0.0.0.0",
      "::",
      "10.1.2.3",
      "192.168.0.1",
      "::ffff:10.0.0.1",
      "localhost",
      "",
    ]) {
      expect(isLoopbackAddress(address)).toBe(false);
    }
    expect(await isLoopbackHost("localhost")).toBe(true);
    expect(await isLoopbackHost("0.0.0.0")).toBe(false);
    expect(await isLoopbackHost("no-such-host.invalid")).toBe(false);
  });

  test.each(["0.0.0.0", "::", "no-such-host.invalid"])(
    "a seed with host %s is refused before listening",
    async (host) => {
      await expect(OctopusEmulator.start({ seed: 1, host })).rejects.toThrow(
        /seed makes the administrator's API key predictable, so it is only allowed on loopback/,
      );
    },
  );

  test("a seed on a loopback host, by name or IPv6 address, is fine", async () => {
    const local = await OctopusEmulator.start({ seed: 1, host: "localhost" });
    await local.close();
    const v6 = await OctopusEmulator.start({ seed: 1, host: "::1" });
    expect(v6.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
    await v6.close();
  });

  test("the cli refuses --seed with a non-loopback --host and prints no key", async () => {
    const cli = resolve(__dirname, "../emulator/cli.js");
    const proc = spawn(process.execPath, [cli, "--port", "0", "--seed", "3", "--host", "0.0.0.0"]);
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    proc.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((done) => proc.on("exit", (c) => done(c)));
    expect(code).toBe(1);
    expect(stderr).toMatch(/only allowed on loopback; 0\.0\.0\.0 is not/);
    expect(stdout).toBe("");
    expect(stderr).not.toMatch(/API-[A-Z0-9]/);
  });
});
