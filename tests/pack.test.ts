import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { OctopusEmulator } from "../emulator/server";
import { Engine, repoRoot } from "../harness/engine";
import { startProviderHost } from "../harness/host";
import { copyWorkingTree, INSTALL_FLAGS, run, Run, runOk, userEnv } from "./support/npm";

// The package as users get it: `npm pack` as a release runs it (prepack and postpack included),
// installed from the tarball into the README's own minimal project, outside the repository, with
// that project's own @pulumi/pulumi and TypeScript. Everything after the install runs from the
// project: its node, its node_modules, its provider host. A git install is checked alongside.
//
// PACK_TEST_PULUMI_VERSIONS lists the @pulumi/pulumi versions to install, separated by spaces
// (default "3.139.0 latest"). "latest" is the README's project exactly as written (its
// @pulumi/pulumi range resolves to the newest 3.x that installs on the running Node: npm skips
// releases whose `engines` exclude it); another version replaces the README's @pulumi/pulumi,
// and TypeScript 5.9 replaces its TypeScript 6 when that @pulumi/pulumi's peer range stops
// before 6 (it does before 3.229.0). So by default TypeScript 5.9 and 6 each check a project,
// both installed from the registry as a user installs them (npm's cache keeps them across
// runs). The registry must be reachable (or the npm cache warm): a failed install fails the
// test, it never skips.
//
// Everything slow (three installs, three full type-checks) starts at once in the one beforeAll,
// so the installs' waits on the network and disk overlap with the compilers' CPU. The git
// install is the longest of them.

const VERSIONS = (process.env.PACK_TEST_PULUMI_VERSIONS ?? "3.139.0 latest")
  .split(/[\s,]+/)
  .filter(Boolean);
/** The TypeScript of a project whose @pulumi/pulumi does not accept 6. */
const TYPESCRIPT_5 = "5.9.3";
/** The first @pulumi/pulumi whose (optional) peer range for typescript admits 6.x. */
const FIRST_PULUMI_FOR_TYPESCRIPT_6 = [3, 229, 0];
const SETUP_TIMEOUT_MS = 8 * 60_000;
const INSTALL_TIMEOUT_MS = 5 * 60_000;
const MAX_PROVIDER_TEXT_BYTES = 2048;
const FAKE_API_KEY = "API-PACKTESTFAKEKEY00000000001";
const FAKE_ACCESS_TOKEN = "pack-test-fake-access-token";
const NAME = "pulumi-octopus-apikey";

interface Report {
  pulumiVersion: string;
  resolved: string;
  exports: string[];
  kinds: Record<string, string>;
  providerMethods: string[];
  errorIsError: boolean;
  deepImport: string;
  providerText: string;
}

/** One type-check: which compiler, which settings, and what it printed. */
interface Checked {
  compiler: string;
  settings: string;
  code: number | null;
  output: string;
}

interface Project {
  dir: string;
  pulumiSpec: string;
  typescriptSpec: string;
  installed: { pulumi: string; typescript: string };
  install: Run;
  report: Report;
  checks: Checked[];
}

let workDir: string;
let tarball: string;
let packedFiles: string[];
let unpacked: string;
let manifestBefore: Buffer;
let manifestAfter: Buffer;
let emulator: OctopusEmulator;
const projects = new Map<string, Project>();
let gitProject: string;
let gitReport: { resolved: string; exports: string[]; kinds: Record<string, string> };

/** The files of the README's minimal project: in its Usage, each fenced block after a line `NAME`:. */
function readmeProject(): Record<string, string> {
  const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8");
  const usage = readme.slice(
    readme.indexOf("\n## Usage\n"),
    readme.indexOf("\n### ", readme.indexOf("\n## Usage\n")),
  );
  const files: Record<string, string> = {};
  for (const m of usage.matchAll(/^`([\w.-]+)`:\s*\n```\w*\n([\s\S]*?)\n```/gm)) {
    files[m[1]] = `${m[2]}\n`;
  }
  const names = Object.keys(files).sort();
  if (names.join(" ") !== "Pulumi.yaml index.ts package.json tsconfig.json") {
    throw new Error(
      `the README's Usage should show package.json, tsconfig.json, Pulumi.yaml and index.ts; found ${names.join(", ")}`,
    );
  }
  return files;
}

/**
 * `npm pack` as a release runs it: `prepack` (builds the package, writes the packed
 * package.json) and `postpack` (puts the repository's back) run, unlike the suite's shared
 * `pack()`, which skips scripts. The build finds nothing to do after `npm run build`.
 */
async function packAsReleased(dir: string) {
  const packed = await runOk("npm", ["pack", "--json", "--pack-destination", dir], {
    cwd: repoRoot,
    env: userEnv(),
    timeoutMs: 120_000,
  });
  const [result] = JSON.parse(packed.stdout) as Array<{
    filename: string;
    size: number;
    unpackedSize: number;
    files: Array<{ path: string }>;
  }>;
  return { ...result, tarball: path.join(dir, result.filename) };
}

async function typeCheck(tsc: string, dir: string, config: string): Promise<Checked> {
  const version = (await runOk(process.execPath, [tsc, "--version"], opts(dir))).stdout.trim();
  const result = await run(process.execPath, [tsc, "-p", config, "--pretty", "false"], opts(dir));
  return {
    compiler: version,
    settings: config,
    code: result.code,
    output: (result.stdout + result.stderr).trim(),
  };
}

function opts(cwd: string) {
  return { cwd, env: userEnv(), timeoutMs: 180_000 };
}

function atLeast(version: string, floor: number[]): boolean {
  const parts = version.split(".").map(Number);
  for (let i = 0; i < floor.length; i++) {
    if (parts[i] !== floor[i]) return parts[i] > floor[i];
  }
  return true;
}

// A program that uses every public type, next to the README's index.ts.
const TYPES_PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { OctopusApiKey, OctopusError } from "pulumi-octopus-apikey";
import type { OctopusApiKeyArgs, OctopusConnectionArgs, OctopusErrorCode } from "pulumi-octopus-apikey";

const connection: OctopusConnectionArgs = { address: "https://octopus.example.com", requestTimeout: "45s" };
const args: OctopusApiKeyArgs = {
  purpose: "CI deployments",
  username: "ci-bot",
  expiresIn: "90d",
  rotateBefore: "14d",
  rotationTriggers: { schedule: pulumi.output("2025-q1") },
  connection,
};
const key = new OctopusApiKey("typed", args, { protect: false });
export const secret: pulumi.Output<string> = key.apiKey;
export const expires: pulumi.Output<string | null> = key.expires;
export const expired: pulumi.Output<boolean> = key.expired;
export function describe(error: unknown): OctopusErrorCode | undefined {
  return error instanceof OctopusError ? error.code : undefined;
}
// @ts-expect-error purpose is required
new OctopusApiKey("no-purpose", {});
// @ts-expect-error expiresIn is a string
new OctopusApiKey("bad-expiry", { purpose: "x", expiresIn: 90 });
`;

// Pulumi's usual tsconfig.json for TypeScript programs ("moduleResolution": "node").
const PULUMI_TEMPLATE_OPTIONS = {
  strict: true,
  outDir: "bin",
  target: "es2020",
  module: "commonjs",
  moduleResolution: "node",
  sourceMap: true,
  experimentalDecorators: true,
  noFallthroughCasesInSwitch: true,
  noImplicitReturns: true,
  forceConsistentCasingInFileNames: true,
};

// Runs in the project: the public API and the provider text under the project's own
// @pulumi/pulumi mocks, reported as JSON.
const CHECK_SCRIPT = `
const fs = require("fs");
const pulumi = require("@pulumi/pulumi");
const pkg = require("${NAME}");
const report = {
  pulumiVersion: require("@pulumi/pulumi/package.json").version,
  resolved: fs.realpathSync(require.resolve("${NAME}")),
  exports: Object.keys(pkg).sort(),
  kinds: { OctopusApiKey: typeof pkg.OctopusApiKey, OctopusError: typeof pkg.OctopusError, provider: typeof pkg.provider },
  providerMethods: ["configure", "check", "diff", "create", "read", "update", "delete"].filter((m) => typeof pkg.provider[m] === "function"),
  errorIsError: pkg.OctopusError.prototype instanceof Error,
};
try {
  require("${NAME}/dist/provider/dynamic/stub");
  report.deepImport = "allowed";
} catch (error) {
  report.deepImport = error.code;
}
(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        if (typeof args.inputs.__provider === "string") report.providerText = args.inputs.__provider;
        return { id: args.name + "-id", state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    "pack-test",
    "test",
    false,
  );
  new pkg.OctopusApiKey("packed", {
    purpose: "packed",
    connection: { apiKey: ${JSON.stringify(FAKE_API_KEY)}, accessToken: ${JSON.stringify(FAKE_ACCESS_TOKEN)} },
  });
  await pulumi.runtime.disconnect();
  process.stdout.write(JSON.stringify(report));
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

/** The README's project with `version` of @pulumi/pulumi, installed, run and type-checked. */
async function setUpProject(version: string): Promise<Project> {
  const started = Date.now();
  const dir = fs.mkdtempSync(path.join(workDir, `project-${version.replace(/\W/g, "_")}-`));
  const files = readmeProject();
  const manifest = JSON.parse(files["package.json"]);
  manifest.dependencies[NAME] = `file:${tarball}`;
  if (version !== "latest") manifest.dependencies["@pulumi/pulumi"] = version;
  if (version !== "latest" && !atLeast(version, FIRST_PULUMI_FOR_TYPESCRIPT_6)) {
    manifest.devDependencies.typescript = TYPESCRIPT_5;
  }
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(manifest, null, 2));
  const install = await runOk("npm", ["install", ...INSTALL_FLAGS], {
    cwd: dir,
    env: userEnv(),
    timeoutMs: INSTALL_TIMEOUT_MS,
  });
  const versionOf = (name: string) =>
    JSON.parse(fs.readFileSync(path.join(dir, "node_modules", name, "package.json"), "utf8"))
      .version as string;
  const installed = { pulumi: versionOf("@pulumi/pulumi"), typescript: versionOf("typescript") };
  const installedAt = Date.now();

  fs.writeFileSync(path.join(dir, "check.js"), CHECK_SCRIPT);
  fs.writeFileSync(path.join(dir, "types.ts"), TYPES_PROGRAM);
  // The README's settings over the README's program and the one above. skipDefaultLibCheck
  // skips only TypeScript's own lib.*.d.ts (about a third of the time); the package's
  // declarations, @pulumi/pulumi's and @types/node's are still checked (skipLibCheck stays off).
  fs.writeFileSync(
    path.join(dir, "tsconfig.check.json"),
    JSON.stringify({
      extends: "./tsconfig.json",
      compilerOptions: { noEmit: true, skipDefaultLibCheck: true },
      files: ["index.ts", "types.ts"],
    }),
  );
  // Pulumi's usual settings: over both programs, and over an empty file (an error in the settings
  // themselves shows without the cost of checking anything).
  fs.writeFileSync(
    path.join(dir, "tsconfig.template.json"),
    JSON.stringify({
      compilerOptions: { ...PULUMI_TEMPLATE_OPTIONS, noEmit: true, skipDefaultLibCheck: true },
      files: ["index.ts", "types.ts"],
    }),
  );
  fs.writeFileSync(path.join(dir, "empty.ts"), "export {};\n");
  fs.writeFileSync(
    path.join(dir, "tsconfig.template-empty.json"),
    JSON.stringify({
      compilerOptions: { ...PULUMI_TEMPLATE_OPTIONS, noEmit: true, skipDefaultLibCheck: true },
      files: ["empty.ts"],
    }),
  );

  const tsc = path.join(dir, "node_modules", "typescript", "bin", "tsc");
  const is5 = installed.typescript.startsWith("5.");
  const [checked, ...checks] = await Promise.all([
    run(process.execPath, ["check.js"], { ...opts(dir), timeoutMs: 60_000 }),
    typeCheck(tsc, dir, "tsconfig.check.json"),
    // Pulumi's usual settings: on TypeScript 5 over the programs, on 6 over the empty file.
    typeCheck(tsc, dir, is5 ? "tsconfig.template.json" : "tsconfig.template-empty.json"),
  ]);
  if (checked.code !== 0) throw new Error(`check.js failed (${checked.code}):\n${checked.stderr}`);
  console.log(
    `@pulumi/pulumi ${version} → ${installed.pulumi}, typescript ${installed.typescript}: ` +
      `installed in ${installedAt - started} ms, run and type-checked in ${Date.now() - installedAt} ms`,
  );
  return {
    dir,
    pulumiSpec: manifest.dependencies["@pulumi/pulumi"],
    typescriptSpec: manifest.devDependencies.typescript,
    installed,
    install,
    report: JSON.parse(checked.stdout),
    checks,
  };
}

/**
 * Installed from a git URL: npm clones the repository, installs its devDependencies, runs its
 * `prepare` script (the build) and packs the clone. The URL is a repository made from this
 * working tree (git+file://, no network for the clone itself).
 */
async function setUpGitInstall(): Promise<void> {
  const started = Date.now();
  const repo = path.join(workDir, "clone");
  copyWorkingTree(repo);
  gitProject = fs.mkdtempSync(path.join(workDir, "project-git-"));
  fs.writeFileSync(
    path.join(gitProject, "package.json"),
    JSON.stringify({ name: "git-test-project", version: "0.0.0", private: true }, null, 2),
  );
  const args = ["install", `git+file://${repo}`, "@pulumi/pulumi@^3", ...INSTALL_FLAGS];
  await runOk("npm", args, { cwd: gitProject, env: userEnv(), timeoutMs: INSTALL_TIMEOUT_MS });
  console.log(`installed from git+file:// in ${Date.now() - started} ms`);
  const checked = await runOk(
    process.execPath,
    [
      "-e",
      `const pkg = require("${NAME}");
process.stdout.write(JSON.stringify({
  resolved: require("fs").realpathSync(require.resolve("${NAME}")),
  exports: Object.keys(pkg).sort(),
  kinds: { OctopusApiKey: typeof pkg.OctopusApiKey, OctopusError: typeof pkg.OctopusError, provider: typeof pkg.provider },
}));`,
    ],
    { ...opts(gitProject), timeoutMs: 60_000 },
  );
  gitReport = JSON.parse(checked.stdout);
}

beforeAll(async () => {
  const started = Date.now();
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), "octopus-apikey-pack-"));
  emulator = await OctopusEmulator.start();
  const git = setUpGitInstall(); // from the working tree, not the tarball: starts at once
  git.catch(() => {}); // awaited below; a failure fails the setup there
  manifestBefore = fs.readFileSync(path.join(repoRoot, "package.json"));
  const packed = await packAsReleased(workDir);
  manifestAfter = fs.readFileSync(path.join(repoRoot, "package.json"));
  tarball = packed.tarball;
  packedFiles = packed.files.map((f) => f.path).sort();
  unpacked = path.join(workDir, "unpacked");
  fs.mkdirSync(unpacked);
  const untar = spawnSync("tar", ["-xzf", tarball, "-C", unpacked], { encoding: "utf8" });
  if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr}`);
  console.log(
    `packed ${packed.filename}: ${packedFiles.length} files, ${packed.size} bytes (${packed.unpackedSize} unpacked) in ${Date.now() - started} ms`,
  );
  const set = await Promise.all([...VERSIONS.map((version) => setUpProject(version)), git]);
  VERSIONS.forEach((version, i) => projects.set(version, set[i] as Project));
  console.log(`pack test set up in ${Date.now() - started} ms`);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await emulator?.close();
  if (workDir) removeInBackground(workDir);
});

/**
 * Removes `dir` without waiting: three projects' node_modules are tens of thousands of files, and
 * deleting them took over a minute on a busy machine, with nothing waiting for it.
 */
function removeInBackground(dir: string): void {
  const rm = spawn("rm", ["-rf", dir], { detached: true, stdio: "ignore" });
  rm.once("error", () => fs.rmSync(dir, { recursive: true, force: true })); // no rm on PATH
  rm.unref();
}

const shipped = (file: string) => path.join(unpacked, "package", file);

describe("the tarball", () => {
  test("holds the built package, its types, its sources, its license and its manifest, and nothing else", () => {
    const allowed =
      /^(package\.json|README\.md|LICENSE|PulumiPlugin\.yaml|dist\/provider\/([\w-]+\/)*[\w.-]+\.(js|d\.ts|js\.map)|provider\/([\w-]+\/)*[\w.-]+\.ts)$/;
    expect(packedFiles.filter((f) => !allowed.test(f))).toEqual([]);
    const required = [
      "package.json",
      "LICENSE",
      "dist/provider/index.js",
      "dist/provider/index.d.ts",
    ];
    expect(packedFiles).toEqual(expect.arrayContaining(required));
    for (const js of packedFiles.filter((f) => f.endsWith(".js"))) {
      expect(packedFiles).toContain(js.replace(/\.js$/, ".d.ts"));
    }
    // The manifest's entry points are files in the tarball.
    const manifest = JSON.parse(fs.readFileSync(shipped("package.json"), "utf8"));
    const entries = [manifest.main, manifest.types, ...Object.values(manifest.exports["."])];
    for (const entry of entries)
      expect(packedFiles).toContain(path.posix.normalize(entry as string));
  });

  test("carries the Apache 2.0 license that package.json names", () => {
    const license = fs.readFileSync(shipped("LICENSE"), "utf8");
    expect(license).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(license).toContain("END OF TERMS AND CONDITIONS");
    expect(JSON.parse(fs.readFileSync(shipped("package.json"), "utf8")).license).toBe("Apache-2.0");
  });

  test("ships no source map without its sources: every map and every source it names is packed", () => {
    // The sources ship with the maps, so a stack trace through them (Pulumi's provider host loads
    // source-map-support) names a TypeScript file and line the user has.
    const maps = packedFiles.filter((f) => f.endsWith(".map"));
    expect(maps.length).toBeGreaterThan(0);
    const missing: string[] = [];
    for (const js of packedFiles.filter((f) => f.endsWith(".js"))) {
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(fs.readFileSync(shipped(js), "utf8"));
      if (url) {
        const map = path.posix.join(path.posix.dirname(js), url[1]);
        if (!packedFiles.includes(map)) missing.push(`${js} → ${map}`);
      }
    }
    for (const map of maps) {
      const parsed = JSON.parse(fs.readFileSync(shipped(map), "utf8"));
      for (const source of parsed.sources as string[]) {
        const file = path.posix.join(path.posix.dirname(map), parsed.sourceRoot ?? "", source);
        if (!packedFiles.includes(file)) missing.push(`${map} → ${file}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test("its package.json is the repository's without devDependencies and development scripts", () => {
    const repo = JSON.parse(manifestBefore.toString("utf8"));
    const packedManifest = JSON.parse(fs.readFileSync(shipped("package.json"), "utf8"));
    // The repository keeps the self-reference (the provider host run from the repository root
    // requires the package by name) and `prepare` (git installs build with it).
    expect(repo.devDependencies[NAME]).toBe("file:");
    expect(repo.scripts.prepare).toBeDefined();
    expect(packedManifest.devDependencies).toBeUndefined();
    // No script at all: in particular no `prepare`, which npm 11 lists as an install script of a
    // package installed from a tarball (and --strict-allow-scripts refuses).
    expect(packedManifest.scripts).toBeUndefined();
    expect(JSON.stringify(packedManifest)).not.toContain("file:");
    const { devDependencies: _d, scripts: _s, ...rest } = repo;
    expect(packedManifest).toEqual(rest);
  });

  test("packing leaves the repository's package.json byte for byte as it was", () => {
    expect(manifestAfter.equals(manifestBefore)).toBe(true);
    expect(fs.existsSync(path.join(repoRoot, "package.json.before-pack"))).toBe(false);
  });
});

describe.each(VERSIONS)("the README's project with @pulumi/pulumi %s", (version) => {
  const project = () => projects.get(version)!;

  test("installs the requested @pulumi/pulumi and TypeScript, with no install script of this package", () => {
    const { installed, report, typescriptSpec, install } = project();
    if (version !== "latest") expect(installed.pulumi).toBe(version);
    expect(report.pulumiVersion).toBe(installed.pulumi);
    if (!/^[~^]/.test(typescriptSpec)) expect(installed.typescript).toBe(typescriptSpec);
    // npm 11 ends an install with the packages whose install scripts it skipped ("npm warn
    // install-scripts ..."); @pulumi/pulumi's own dependencies may be among them, this package not.
    const output = install.stdout + install.stderr;
    const listed = output.split("\n").filter((line) => line.includes("install-scripts"));
    expect(listed.filter((line) => line.includes(NAME))).toEqual([]);
  });

  test("require() finds the installed copy and its public API; deep imports are closed", () => {
    const { report, dir } = project();
    expect(report.resolved).toBe(
      fs.realpathSync(path.join(dir, `node_modules/${NAME}/dist/provider/index.js`)),
    );
    expect(report.exports).toEqual(
      expect.arrayContaining(["OctopusApiKey", "OctopusError", "provider"]),
    );
    expect(report.kinds).toEqual({
      OctopusApiKey: "function",
      OctopusError: "function",
      provider: "object",
    });
    expect(report.providerMethods).toHaveLength(7);
    expect(report.errorIsError).toBe(true);
    expect(report.deepImport).toBe("ERR_PACKAGE_PATH_NOT_EXPORTED");
  });

  test("the provider text it serializes is small, secret-free and names only the package", () => {
    const text = project().report.providerText;
    const bytes = Buffer.byteLength(text, "utf8");
    console.log(
      `__provider text with @pulumi/pulumi ${project().installed.pulumi}: ${bytes} bytes`,
    );
    expect(bytes).toBeLessThanOrEqual(MAX_PROVIDER_TEXT_BYTES);
    expect(text).not.toContain(FAKE_API_KEY);
    expect(text).not.toContain(FAKE_ACCESS_TOKEN);
    const requires = [...text.matchAll(/\brequire\b\s*(\(\s*[^)]*\))?/g)].map((m) => m[0]);
    expect(requires.length).toBeGreaterThan(0);
    expect(new Set(requires)).toEqual(new Set([`require("${NAME}")`]));
  });

  test("the README's program and every public type check with the project's own TypeScript", () => {
    const { checks, installed } = project();
    // skipLibCheck is off (the README leaves it at its default), so the package's own
    // declarations are checked too, not only their use.
    const [readme] = checks.filter((c) => c.settings === "tsconfig.check.json");
    expect(readme).toEqual({
      compiler: `Version ${installed.typescript}`,
      settings: "tsconfig.check.json",
      code: 0,
      output: "",
    });
  });

  test('Pulumi\'s usual "moduleResolution": "node" works on TypeScript 5.9 and fails on 6 with TS5107', () => {
    const [template] = project().checks.filter((c) => c.settings.startsWith("tsconfig.template"));
    if (template.compiler.startsWith("Version 5.")) {
      expect({ code: template.code, output: template.output }).toEqual({ code: 0, output: "" });
    } else {
      expect(template.code).not.toBe(0);
      expect(template.output).toMatch(
        /error TS5107: Option 'moduleResolution=node10' is deprecated/,
      );
    }
  });

  test("the project's own provider host creates, refreshes and revokes a key from stack config", async () => {
    const { dir, report, installed } = project();
    const hostScript = path.join(
      dir,
      "node_modules",
      "@pulumi",
      "pulumi",
      "cmd",
      "dynamic-provider",
    );
    // Credentials only through stack config, so the run depends on the host calling configure.
    const host = await startProviderHost({ cwd: dir, env: userEnv(), hostScript });
    const engine = new Engine(host, report.providerText);
    try {
      await host.configure(
        { "octopusdeploy:address": emulator.url, "octopusdeploy:apiKey": emulator.admin.apiKey },
        { secretKeys: ["octopusdeploy:apiKey"] },
      );
      expect(
        await engine.up("packed", { purpose: `packed ${installed.pulumi}`, username: "ci-bot" }),
      ).toEqual({ step: "create" });
      const id = engine.state.get("packed")!.id;
      expect(emulator.hasKey(id)).toBe(true);
      expect(engine.outputs("packed")).toMatchObject({
        serverUrl: emulator.url,
        userId: emulator.serviceAccount.id,
      });
      // Credentials from stack config are never stored (an absent connection is left out of state).
      expect(engine.outputs("packed").connection ?? null).toBeNull();
      expect(await engine.refresh("packed")).toBe("kept");
      expect(engine.outputs("packed").apiKey).toMatch(/^API-/);
      await engine.destroy("packed");
      expect(emulator.hasKey(id)).toBe(false);
    } finally {
      await engine.close();
    }
  }, 120_000);
});

test("TypeScript 5.9 and 6 each type-checked a project", () => {
  const compilers = [...projects.values()].map((p) => p.installed.typescript);
  if (VERSIONS.includes("latest")) expect(compilers.some((v) => v.startsWith("6."))).toBe(true);
  if (VERSIONS.some((v) => v !== "latest" && !atLeast(v, FIRST_PULUMI_FOR_TYPESCRIPT_6))) {
    expect(compilers).toContain(TYPESCRIPT_5);
  }
});

describe("installed from a git URL", () => {
  test("the package is built on install: dist/ holds the entry points, and only the packed files", () => {
    const installed = path.join(gitProject, "node_modules", NAME);
    expect(fs.lstatSync(installed).isSymbolicLink()).toBe(false);
    for (const file of ["dist/provider/index.js", "dist/provider/index.d.ts"]) {
      expect(fs.existsSync(path.join(installed, file))).toBe(true);
    }
    // What `files` allows, as from the tarball: no tests, scripts or emulator.
    expect(fs.readdirSync(installed).sort()).toEqual([
      "LICENSE",
      "PulumiPlugin.yaml",
      "README.md",
      "dist",
      "package.json",
      "provider",
    ]);
    expect(fs.readdirSync(path.join(installed, "dist"))).toEqual(["provider"]);
  });

  test("require() loads the public API from the installed copy", () => {
    expect(gitReport.resolved).toBe(
      fs.realpathSync(path.join(gitProject, `node_modules/${NAME}/dist/provider/index.js`)),
    );
    expect(gitReport.kinds).toEqual({
      OctopusApiKey: "function",
      OctopusError: "function",
      provider: "object",
    });
  });
});
