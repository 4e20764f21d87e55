import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { OctopusEmulator } from "../emulator/server";
import {
  launchPlugin,
  type Plugin,
  PLUGIN_MAIN,
  PluginCallError,
  pluginUrn,
  secret,
  UNKNOWN,
} from "../harness/plugin";
import { INPUTS, OUTPUTS } from "../provider/core/fields";
import { hostEnv } from "../harness/engine";

// The resource plugin as a process and a protocol: launched as the engine launches it, its
// schema, its provider configuration (CheckConfig, DiffConfig, Configure) and its end.

const repoRoot = path.resolve(__dirname, "..", "..");
const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8"));
const schemaFile = path.join(repoRoot, "schema.json");

let emulator: OctopusEmulator;
let plugin: Plugin;

beforeAll(async () => {
  emulator = await OctopusEmulator.start();
  // As the engine runs it: the file itself, with the engine's logging flags before its address.
  plugin = await launchPlugin({
    env: hostEnv(),
    direct: true,
    flags: ["-v=9", "--logtostderr", "--tracing", "http://127.0.0.1:1"],
  });
});
afterAll(async () => {
  await plugin?.close();
  await emulator?.close();
});

test("package.json names the built plugin as its bin, a Node program", () => {
  expect(manifest.bin).toEqual({
    "pulumi-resource-octopusapikey": "dist/provider/plugin/main.js",
  });
  expect(path.join(repoRoot, "dist", "provider", "plugin", "main.js")).toBe(PLUGIN_MAIN);
  expect(fs.readFileSync(PLUGIN_MAIN, "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
});

test("it reports the package's version, and stays up across calls", async () => {
  expect(await plugin.getPluginInfo()).toEqual({ version: manifest.version });
  for (let i = 0; i < 20; i++) await plugin.getPluginInfo();
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(await plugin.getPluginInfo()).toEqual({ version: manifest.version });
  expect(() => process.kill(plugin.pid, 0)).not.toThrow();
});

test("GetSchema answers schema.json (written by npm run generate)", async () => {
  const schema = await plugin.getSchema();
  expect(schema).toEqual(JSON.parse(fs.readFileSync(schemaFile, "utf8")));
});

test("the schema: the key's inputs and outputs, secrets, configuration, function, languages, alias", async () => {
  // A JSON document, read field by field: its shape is what this test checks.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const schema = (await plugin.getSchema()) as Record<string, any>;
  expect(schema.name).toBe("octopusapikey");
  expect(schema.version).toBe(manifest.version);
  const resource = schema.resources["octopusapikey:index:ApiKey"];
  expect(Object.keys(resource.inputProperties)).toEqual(Object.keys(INPUTS));
  expect(Object.keys(resource.properties)).toEqual(Object.keys(OUTPUTS));
  expect(resource.requiredInputs).toEqual(["purpose"]);
  expect(resource.properties.apiKey.secret).toBe(true);
  expect(resource.inputProperties.connection.secret).toBe(true);
  expect(resource.required).not.toContain("apiKey"); // an imported key has none
  expect(resource.required).not.toContain("expires"); // null for a key that never expires
  expect(resource.aliases).toEqual([{ type: "pulumi-nodejs:dynamic/octopusdeploy:ApiKey" }]);
  const settings = [
    "address",
    "apiKey",
    "accessToken",
    "requestTimeout",
    "caCertificate",
    "allowInsecureHttp",
  ];
  expect(Object.keys(schema.config.variables)).toEqual(settings);
  expect(Object.keys(schema.provider.inputProperties)).toEqual(settings);
  const secrets = settings.filter((s) => schema.config.variables[s].secret === true);
  expect(secrets).toEqual(["apiKey", "accessToken"]);
  expect(schema.config.variables.address.description).toContain("`OCTOPUS_URL`");
  const fn = schema.functions["octopusapikey:index:getApiKeys"];
  expect(Object.keys(fn.inputs.properties)).toEqual(["userId", "username", "purpose"]);
  expect(fn.outputs.properties.keys.items.$ref).toBe("#/types/octopusapikey:index:ApiKeySummary");
  expect(Object.keys(schema.types["octopusapikey:index:ApiKeySummary"].properties)).toEqual([
    "id",
    "purpose",
    "created",
    "expires",
    "lastUsed",
    "accessLevel",
    "hint",
  ]);
  expect(Object.keys(schema.language).sort()).toEqual(["csharp", "go", "nodejs", "python"]);
});

describe("CheckConfig", () => {
  const check = (news: Record<string, unknown>) => plugin.checkConfig({}, news);

  test("accepts good settings, none at all, and values not known yet; answers them as they came", async () => {
    const good = {
      address: "https://octopus.example.com",
      apiKey: "API-ABCDEFGH12345678",
      requestTimeout: "45s",
      allowInsecureHttp: "false",
      version: "0.1.0",
    };
    expect(await check(good)).toEqual({ inputs: good, failures: [] });
    expect(await check({})).toEqual({ inputs: {}, failures: [] });
    expect((await check({ address: UNKNOWN, apiKey: UNKNOWN })).failures).toEqual([]);
  });

  test("refuses bad settings, naming the setting and the fix, before anything is sent", async () => {
    const before = emulator.stats.requests;
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [
        { address: "octopus.example.com" },
        "address",
        /^octopusapikey:address is not a valid URL; use the form https:/,
      ],
      [
        { address: "http://octopus.example.com" },
        "address",
        /octopusapikey:address uses plain http:\/\/.*set octopusapikey:allowInsecureHttp/,
      ],
      [{ apiKey: "not-a-key" }, "apiKey", /^octopusapikey:apiKey is not an Octopus API key/],
      [
        { requestTimeout: "soon" },
        "requestTimeout",
        /^octopusapikey:requestTimeout must be a positive number of milliseconds or a duration such as 30s/,
      ],
      [
        { allowInsecureHttp: "maybe" },
        "allowInsecureHttp",
        /^octopusapikey:allowInsecureHttp must be true or false/,
      ],
      [
        { caCertificate: "/etc/ca.pem" },
        "caCertificate",
        /^octopusapikey:caCertificate must be the PEM text/,
      ],
      [
        { adress: "https://octopus.example.com" },
        "adress",
        /^octopusapikey:adress is not a setting of octopusapikey; remove it \(settings: octopusapikey:address, /,
      ],
    ];
    for (const [news, property, reason] of cases) {
      const { failures } = await check(news);
      expect(failures).toEqual([{ property, reason: expect.stringMatching(reason) }]);
    }
    // Allowed plain http, or a loopback server, passes.
    expect(
      (await check({ address: "http://octopus.example.com", allowInsecureHttp: "true" })).failures,
    ).toEqual([]);
    expect((await check({ address: "http://127.0.0.1:8065" })).failures).toEqual([]);
    expect(emulator.stats.requests).toBe(before);
  });

  test("names an environment variable when the bad value came from it", async () => {
    const env = hostEnv({ OCTOPUS_URL: "ftp://octopus.example.com", OCTOPUS_APIKEY: "bad" });
    const other = await launchPlugin({ env });
    try {
      const { failures } = await other.checkConfig({}, {});
      expect(failures).toEqual([
        { property: "", reason: expect.stringMatching(/^OCTOPUS_URL uses ftp:/) },
        {
          property: "",
          reason: expect.stringMatching(/^OCTOPUS_APIKEY is not an Octopus API key/),
        },
      ]);
      // A setting wins over the environment, and is what gets named.
      expect(
        (
          await other.checkConfig(
            {},
            { address: "https://octopus.example.com", apiKey: "API-ABCDEFGH" },
          )
        ).failures,
      ).toEqual([]);
    } finally {
      await other.close();
    }
  });
});

test("DiffConfig reports changed settings and never replaces keys", async () => {
  const settings = { address: "https://a.example.com", apiKey: "API-AAAAAAAA", version: "0.1.0" };
  expect(await plugin.diffConfig(settings, { ...settings })).toEqual({
    changes: "none",
    replaces: [],
    diffs: [],
  });
  expect(
    await plugin.diffConfig(settings, { ...settings, address: "https://b.example.com" }),
  ).toEqual({
    changes: "some",
    replaces: [],
    diffs: ["address"],
  });
  // Moving from the dynamic resource's provider (`pulumi-nodejs`): nothing is replaced.
  expect((await plugin.diffConfig({ version: "3.248.0" }, settings)).replaces).toEqual([]);
});

describe("Configure", () => {
  const urn = pluginUrn("configured");
  afterEach(() => plugin.configure({}));

  async function createOne(purpose: string): Promise<string> {
    const checked = await plugin.check(urn, {}, { purpose });
    expect(checked.failures).toEqual([]);
    return (await plugin.create(urn, checked.inputs)).id;
  }

  test("takes the settings by name from args, secrets wrapped, and accepts secrets", async () => {
    expect(
      await plugin.configure({ address: emulator.url, apiKey: secret(emulator.admin.apiKey) }),
    ).toEqual({
      acceptSecrets: true,
      supportsPreview: false,
    });
    const id = await createOne("configured by args");
    expect(emulator.liveKeys(emulator.admin.id).map((k) => k.Id)).toContain(id);
  });

  test("takes the octopusapikey:config:* variables, as older engines send them", async () => {
    await plugin.configure(
      {},
      {
        "octopusapikey:config:address": emulator.url,
        "octopusapikey:config:apiKey": emulator.admin.apiKey,
        "octopusapikey:config:requestTimeout": "30000",
      },
    );
    const id = await createOne("configured by variables");
    expect(emulator.liveKeys(emulator.admin.id).map((k) => k.Id)).toContain(id);
  });

  test("without settings nor environment, a key's check names the settings to set", async () => {
    const { failures } = await plugin.check(urn, {}, { purpose: "nowhere" });
    expect(failures.map((f) => f.reason).join("\n")).toMatch(
      /set connection\.address, octopusapikey:address, or OCTOPUS_URL/,
    );
  });

  test("a refused credential is named as the setting it came from", async () => {
    await plugin.configure({ address: emulator.url, apiKey: secret("API-WRONGWRONGWRONG") });
    const checked = await plugin.check(urn, {}, { purpose: "refused" });
    const error = await plugin.create(urn, checked.inputs).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PluginCallError);
    expect((error as Error).message).toMatch(
      /the API key \(from octopusapikey:apiKey\) was refused/i,
    );
    expect((error as Error).message).not.toContain("API-WRONGWRONGWRONG");
  });
});

describe("the plugin's end", () => {
  test("Cancel, then SIGINT, as the engine closes a plugin: it exits with status 0", async () => {
    const other = await launchPlugin({ env: hostEnv() });
    await other.getPluginInfo();
    const started = Date.now();
    expect(await other.stop()).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  test("an engine that dies without a word: its end of stdin closes, and the plugin exits", async () => {
    const other = await launchPlugin({ env: hostEnv() });
    await other.getPluginInfo();
    expect(await other.engineGone()).toEqual({ code: 0, signal: null });
  });

  test("without the engine's address it does not start", () => {
    const run = spawnSync(process.execPath, [PLUGIN_MAIN], { encoding: "utf8", env: hostEnv() });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/missing the engine's address/);
  });
});
