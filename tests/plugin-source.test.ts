import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { launchPlugin, type Plugin, PLUGIN_MAIN, pluginUrn } from "../harness/plugin";
import { hostEnv } from "../harness/engine";

// The plugin as a source plugin (`PulumiPlugin.yaml`, `runtime: nodejs`) runs: the Node.js
// language host's RunPlugin starts `node @pulumi/pulumi/cmd/run-plugin <plugin dir> <engine
// args>` with stdin on /dev/null, and run-plugin `require`s the directory (its package.json
// `main`) with process.argv set to the engine's arguments. A main that calls the plugin's
// `serve` then serves the custom resource like the executable does; stdin that is not a pipe
// is not taken for the engine's end.

let dir: string;
let plugin: Plugin;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "octopusapikey-source-plugin-"));
  fs.writeFileSync(path.join(dir, "PulumiPlugin.yaml"), "runtime: nodejs\n");
  fs.writeFileSync(
    path.join(dir, "package.json"),
    JSON.stringify({ name: "octopusapikey-source-plugin", private: true, main: "index.js" }),
  );
  fs.writeFileSync(
    path.join(dir, "index.js"),
    `require(${JSON.stringify(PLUGIN_MAIN)}).serve(process.argv.slice(2));\n`,
  );
  const runPlugin = require.resolve("@pulumi/pulumi/cmd/run-plugin");
  plugin = await launchPlugin({
    env: hostEnv(),
    cwd: os.tmpdir(),
    flags: ["-v=9"],
    via: { command: process.execPath, args: [runPlugin, dir] },
  });
});
afterAll(async () => {
  await plugin?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test("run by the language host's run-plugin, it serves the custom resource and stays up", async () => {
  expect((await plugin.getPluginInfo()).version).toMatch(/^\d+\.\d+\.\d+/);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const schema = await plugin.getSchema();
  expect(Object.keys(schema.resources as object)).toEqual(["octopusapikey:index:ApiKey"]);
  await plugin.configure({ address: "https://octopus.example.com", apiKey: "API-ABCDEFGH" });
  const { failures } = await plugin.check(pluginUrn("source"), {}, { purpose: "from source" });
  expect(failures).toEqual([]);
  expect(await plugin.stop()).toEqual({ code: 0, signal: null });
});
