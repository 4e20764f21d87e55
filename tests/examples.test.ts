import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { OctopusEmulator } from "../emulator/server";
import { Engine, repoRoot } from "../harness/engine";
import { startProviderHost } from "../harness/host";
import { INSTALL_FLAGS, pack, runOk, userEnv } from "./support/npm";

// Each example copied out of the repository, as a user would take it, and installed against the
// packed tarball (what the registry will serve): the example's own @pulumi/pulumi is the only
// one, its own TypeScript type-checks and compiles it, its program runs under its own Pulumi's
// mocks, and its own provider host creates and revokes the key on the emulator. (That the
// README's commands work inside a fresh clone is checked by .ci/run: scripts/check-examples.sh.)

const EXAMPLES = fs
  .readdirSync(path.join(repoRoot, "examples"), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  // The TypeScript examples; a YAML one is checked against the schema (examples-yaml.test.ts).
  .filter((name) => fs.existsSync(path.join(repoRoot, "examples", name, "package.json")))
  .sort();
const INSTALL_TIMEOUT_MS = 5 * 60_000;
const DYNAMIC_TYPE = "pulumi-nodejs:dynamic/octopusdeploy:ApiKey";

/** The example's files as the repository holds them: no node_modules, lockfile or build output. */
function copyExample(name: string, dest: string): void {
  const from = path.join(repoRoot, "examples", name);
  const skip = new Set(["node_modules", "package-lock.json", "bin"]);
  fs.cpSync(from, dest, { recursive: true, filter: (src) => !skip.has(path.basename(src)) });
}

// Runs in the example: the compiled program under the example's own @pulumi/pulumi mocks, and
// where each @pulumi/pulumi a module of the program would load lives. Prints JSON.
const RUNNER = `
const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");
const pulumi = require("@pulumi/pulumi");
const real = (from, id) => fs.realpathSync(createRequire(from).resolve(id));
const here = path.join(process.cwd(), "index.js");
const pkg = require.resolve("pulumi-octopus-apikey");
const report = {
  pulumi: {
    program: real(here, "@pulumi/pulumi"),
    package: real(pkg, "@pulumi/pulumi"),
  },
  registrations: [],
};
try {
  report.pulumi.kubernetes = real(require.resolve("@pulumi/kubernetes"), "@pulumi/pulumi");
} catch {}
(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        report.registrations.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: args.name + "-id", state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    "example",
    "dev",
    false,
  );
  require("./bin/index.js");
  await pulumi.runtime.disconnect();
  process.stdout.write(JSON.stringify(report));
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

/** Every package.json of an @pulumi/pulumi under `dir`'s node_modules, at any depth. */
function pulumiCopies(dir: string): string[] {
  const found: string[] = [];
  const walk = (modules: string, depth: number) => {
    if (depth > 8 || !fs.existsSync(modules)) return;
    for (const entry of fs.readdirSync(modules, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const names = entry.name.startsWith("@")
        ? fs.readdirSync(path.join(modules, entry.name)).map((n) => `${entry.name}/${n}`)
        : [entry.name];
      for (const name of names) {
        const pkgDir = path.join(modules, name);
        if (name === "@pulumi/pulumi") found.push(path.join(pkgDir, "package.json"));
        walk(path.join(pkgDir, "node_modules"), depth + 1);
      }
    }
  };
  walk(path.join(dir, "node_modules"), 0);
  return found;
}

let workDir: string;
let tarball: string;
let emulator: OctopusEmulator;

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), "octopus-apikey-examples-"));
  emulator = await OctopusEmulator.start();
  tarball = (await pack(workDir)).tarball;
}, 150_000);

afterAll(async () => {
  await emulator?.close();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

test("there are examples to check", () => {
  expect(EXAMPLES).toEqual(expect.arrayContaining(["rotating-key", "service-account-key"]));
});

describe.each(EXAMPLES)("examples/%s copied out and installed from the tarball", (name) => {
  let dir: string;
  let report: {
    pulumi: { program: string; package: string; kubernetes?: string };
    registrations: Array<{ type: string; name: string; inputs: Record<string, unknown> }>;
  };

  beforeAll(async () => {
    const started = Date.now();
    dir = path.join(workDir, name);
    copyExample(name, dir);
    // What the example's README says to run outside the repository.
    await runOk("npm", ["install", tarball, ...INSTALL_FLAGS], {
      cwd: dir,
      env: userEnv(),
      timeoutMs: INSTALL_TIMEOUT_MS - 30_000,
    });
    const installed = Date.now();
    // The example's own TypeScript, with the example's own tsconfig.json: type errors fail here.
    const tsc = path.join(dir, "node_modules", "typescript", "bin", "tsc");
    const compiled = await runOk(process.execPath, [tsc, "-p", "tsconfig.json"], {
      cwd: dir,
      env: userEnv(),
      timeoutMs: 120_000,
    });
    expect(compiled.stdout + compiled.stderr).toBe("");
    fs.writeFileSync(path.join(dir, "run-under-mocks.js"), RUNNER);
    const ran = await runOk(process.execPath, ["run-under-mocks.js"], {
      cwd: dir,
      env: userEnv(),
      timeoutMs: 60_000,
    });
    report = JSON.parse(ran.stdout);
    console.log(
      `examples/${name}: installed in ${installed - started} ms, compiled and run under mocks in ${Date.now() - installed} ms`,
    );
  }, INSTALL_TIMEOUT_MS);

  test("the package is installed as a copy with its own dependencies, not a link", () => {
    const installed = path.join(dir, "node_modules", "pulumi-octopus-apikey");
    expect(fs.lstatSync(installed).isSymbolicLink()).toBe(false);
    expect(fs.existsSync(path.join(installed, "dist/provider/index.js"))).toBe(true);
    const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8"));
    for (const dependency of Object.keys(manifest.dependencies)) {
      expect(fs.existsSync(path.join(dir, "node_modules", dependency, "package.json"))).toBe(true);
    }
  });

  test("exactly one @pulumi/pulumi: the program's, which the package shares", () => {
    const only = fs.realpathSync(path.join(dir, "node_modules/@pulumi/pulumi/package.json"));
    expect(pulumiCopies(dir).map((p) => fs.realpathSync(p))).toEqual([only]);
    const own = path.join(path.dirname(only), "index.js");
    expect(report.pulumi.program).toBe(own);
    expect(report.pulumi.package).toBe(own);
    if (report.pulumi.kubernetes !== undefined) expect(report.pulumi.kubernetes).toBe(own);
  });

  test("its program declares an OctopusApiKey, and its provider host creates and revokes it", async () => {
    const key = report.registrations.find((r) => r.type === DYNAMIC_TYPE);
    expect(key).toBeDefined();
    const { __provider: text, ...inputs } = key!.inputs;
    expect(typeof text).toBe("string");

    const hostScript = path.join(dir, "node_modules/@pulumi/pulumi/cmd/dynamic-provider");
    const host = await startProviderHost({ cwd: dir, env: userEnv(), hostScript });
    const engine = new Engine(host, text as string);
    try {
      await host.configure(
        { "octopusdeploy:address": emulator.url, "octopusdeploy:apiKey": emulator.admin.apiKey },
        { secretKeys: ["octopusdeploy:apiKey"] },
      );
      expect(await engine.up(key!.name, inputs)).toEqual({ step: "create" });
      const id = engine.state.get(key!.name)!.id;
      expect(emulator.hasKey(id)).toBe(true);
      expect(engine.outputs(key!.name)).toMatchObject({
        purpose: inputs.purpose,
        userId: emulator.serviceAccount.id,
      });
      await engine.destroy(key!.name);
      expect(emulator.hasKey(id)).toBe(false);
    } finally {
      await engine.close();
    }
  }, 120_000);
});
