import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { hostEnv, repoRoot } from "../harness/engine";
import { launchPlugin, type Plugin, pluginUrn } from "../harness/plugin";

// This repository as a source plugin (`pulumi package add <git URL or path>`): its
// PulumiPlugin.yaml names the Node.js runtime, whose language host starts `node
// @pulumi/pulumi/cmd/run-plugin <plugin dir> <engine args>` with stdin on /dev/null; run-plugin
// `require`s the directory (package.json `main`, the library) with process.argv set to the
// engine's arguments, and the library then serves the custom resource as the executable does.

let plugin: Plugin;

beforeAll(async () => {
  const runPlugin = require.resolve("@pulumi/pulumi/cmd/run-plugin");
  plugin = await launchPlugin({
    env: hostEnv(),
    cwd: os.tmpdir(),
    flags: ["-v=9"],
    via: { command: process.execPath, args: [runPlugin, repoRoot] },
  });
});
afterAll(() => plugin?.close());

test("the repository declares a Node.js source plugin", () => {
  expect(fs.readFileSync(path.join(repoRoot, "PulumiPlugin.yaml"), "utf8")).toBe(
    "runtime: nodejs\n",
  );
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
