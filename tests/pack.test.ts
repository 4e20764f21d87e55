import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { OctopusEmulator } from "../emulator/server";
import { Engine, repoRoot } from "../harness/engine";
import { startProviderHost } from "../harness/host";
import { copyWorkingTree, INSTALL_FLAGS, pack, run, runOk, userEnv } from "./support/npm";

// The package as users get it: `npm pack`, installed from the tarball into a scratch Pulumi
// project outside the repository, with that project's own @pulumi/pulumi. Everything after the
// install runs from the project: its node, its node_modules, its provider host.
//
// PACK_TEST_PULUMI_VERSIONS lists the @pulumi/pulumi versions to install, separated by spaces
// (default "3.139.0 latest"): "latest" is the newest 3.x that installs on the running Node (npm
// skips releases whose `engines` exclude it: 3.248 on Node 20). The registry must be reachable
// (or the npm cache warm): a failed install fails the test, it never skips.

const VERSIONS = (process.env.PACK_TEST_PULUMI_VERSIONS ?? "3.139.0 latest")
  .split(/[\s,]+/)
  .filter(Boolean);
const INSTALL_TIMEOUT_MS = 5 * 60_000;
const MAX_PROVIDER_TEXT_BYTES = 2048;
const FAKE_API_KEY = "API-PACKTESTFAKEKEY00000000001";
const FAKE_ACCESS_TOKEN = "pack-test-fake-access-token";

let workDir: string;
let tarball: string;
let packedFiles: string[];
let emulator: OctopusEmulator;

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), "octopus-apikey-pack-"));
  emulator = await OctopusEmulator.start();
  const packed = await pack(workDir);
  tarball = packed.tarball;
  packedFiles = packed.files;
  console.log(
    `packed ${path.basename(tarball)}: ${packed.files.length} files, ${packed.size} bytes (${packed.unpackedSize} unpacked)`,
  );
}, 150_000);

afterAll(async () => {
  await emulator?.close();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

test("the tarball holds the built package, its types and its manifest, and nothing else", () => {
  // Source maps ship with the JavaScript: they point at sources not in the package, but still
  // turn stack traces into the lines of the TypeScript a bug report can name.
  const allowed =
    /^(package\.json|README\.md|LICENSE(\.md|\.txt)?|dist\/provider\/[\w-]+\.(js|d\.ts|js\.map))$/;
  expect(packedFiles.filter((f) => !allowed.test(f))).toEqual([]);
  const required = ["package.json", "dist/provider/index.js", "dist/provider/index.d.ts"];
  expect(packedFiles).toEqual(expect.arrayContaining(required));
  for (const js of packedFiles.filter((f) => f.endsWith(".js"))) {
    expect(packedFiles).toContain(js.replace(/\.js$/, ".d.ts"));
  }
  // The manifest's entry points are files in the tarball.
  const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8"));
  const entries = [manifest.main, manifest.types, ...Object.values(manifest.exports["."])];
  for (const entry of entries) expect(packedFiles).toContain(path.posix.normalize(entry as string));
});

describe.each(VERSIONS)("a Pulumi project with @pulumi/pulumi %s", (version) => {
  let project: string;
  let installed: string;
  let report: {
    pulumiVersion: string;
    resolved: string;
    exports: string[];
    kinds: Record<string, string>;
    providerMethods: string[];
    errorIsError: boolean;
    deepImport: string;
    providerText: string;
  };

  beforeAll(async () => {
    const started = Date.now();
    project = fs.mkdtempSync(path.join(workDir, `project-${version.replace(/\W/g, "_")}-`));
    fs.writeFileSync(
      path.join(project, "package.json"),
      JSON.stringify({ name: "pack-test-project", version: "0.0.0", private: true }, null, 2),
    );
    fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: pack-test\nruntime: nodejs\n");
    const pulumiSpec = version === "latest" ? "^3" : version;
    const nodeMajor = process.versions.node.split(".")[0];
    const args = [
      "install",
      tarball,
      `@pulumi/pulumi@${pulumiSpec}`,
      `@types/node@^${nodeMajor}`,
      ...INSTALL_FLAGS,
      "--prefix",
      project,
    ];
    await runOk("npm", args, {
      cwd: project,
      env: userEnv(),
      timeoutMs: INSTALL_TIMEOUT_MS - 30_000,
    });
    installed = JSON.parse(
      fs.readFileSync(path.join(project, "node_modules/@pulumi/pulumi/package.json"), "utf8"),
    ).version;
    console.log(
      `@pulumi/pulumi ${version} → ${installed} installed in ${Date.now() - started} ms (Node ${process.version})`,
    );

    // A script of the project's own: the public API and the provider text under the project's
    // own @pulumi/pulumi mocks, reported as JSON.
    fs.writeFileSync(
      path.join(project, "check.js"),
      `
const fs = require("fs");
const pulumi = require("@pulumi/pulumi");
const pkg = require("pulumi-octopus-apikey");
const report = {
  pulumiVersion: require("@pulumi/pulumi/package.json").version,
  resolved: fs.realpathSync(require.resolve("pulumi-octopus-apikey")),
  exports: Object.keys(pkg).sort(),
  kinds: { OctopusApiKey: typeof pkg.OctopusApiKey, OctopusError: typeof pkg.OctopusError, provider: typeof pkg.provider },
  providerMethods: ["configure", "check", "diff", "create", "read", "update", "delete"].filter((m) => typeof pkg.provider[m] === "function"),
  errorIsError: pkg.OctopusError.prototype instanceof Error,
};
try {
  require("pulumi-octopus-apikey/dist/provider/dynamic/stub");
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
`,
    );
    const checked = await run(process.execPath, ["check.js"], {
      cwd: project,
      env: userEnv(),
      timeoutMs: 60_000,
    });
    if (checked.code !== 0)
      throw new Error(`check.js failed (${checked.code}):\n${checked.stderr}`);
    report = JSON.parse(checked.stdout);
  }, INSTALL_TIMEOUT_MS);

  test("the requested @pulumi/pulumi is the one installed and used", () => {
    if (version !== "latest") expect(installed).toBe(version);
    expect(report.pulumiVersion).toBe(installed);
  });

  test("require() finds the installed copy and its public API; deep imports are closed", () => {
    expect(report.resolved).toBe(
      fs.realpathSync(
        path.join(project, "node_modules/pulumi-octopus-apikey/dist/provider/index.js"),
      ),
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
    const text = report.providerText;
    const bytes = Buffer.byteLength(text, "utf8");
    console.log(`__provider text with @pulumi/pulumi ${installed}: ${bytes} bytes`);
    expect(bytes).toBeLessThanOrEqual(MAX_PROVIDER_TEXT_BYTES);
    expect(text).not.toContain(FAKE_API_KEY);
    expect(text).not.toContain(FAKE_ACCESS_TOKEN);
    const requires = [...text.matchAll(/\brequire\b\s*(\(\s*[^)]*\))?/g)].map((m) => m[0]);
    expect(requires.length).toBeGreaterThan(0);
    expect(new Set(requires)).toEqual(new Set(['require("pulumi-octopus-apikey")']));
  });

  test("a TypeScript program type-checks against the package's types", async () => {
    fs.writeFileSync(
      path.join(project, "index.ts"),
      `import * as pulumi from "@pulumi/pulumi";
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
const key = new OctopusApiKey("deployer", args, { protect: false });
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
`,
    );
    const tsc = path.join(repoRoot, "node_modules", "typescript", "bin", "tsc");
    // node16 resolution reads `exports`; Pulumi's TypeScript template uses the older "node"
    // resolution, which reads `types`. Neither skips checking the package's declarations.
    const settings = {
      node16: { module: "node16", moduleResolution: "node16", target: "es2022" },
      template: { module: "commonjs", moduleResolution: "node", target: "es2020" },
    };
    for (const [name, options] of Object.entries(settings)) {
      const config = path.join(project, `tsconfig.${name}.json`);
      fs.writeFileSync(
        config,
        JSON.stringify({
          compilerOptions: { ...options, strict: true, noEmit: true, skipLibCheck: false },
          files: ["index.ts"],
        }),
      );
      const result = await run(process.execPath, [tsc, "-p", config], {
        cwd: project,
        env: userEnv(),
        timeoutMs: 120_000,
      });
      expect({ settings: name, code: result.code, output: result.stdout + result.stderr }).toEqual({
        settings: name,
        code: 0,
        output: "",
      });
    }
  }, 240_000);

  test("the project's own provider host creates, refreshes and revokes a key from stack config", async () => {
    const hostScript = path.join(
      project,
      "node_modules",
      "@pulumi",
      "pulumi",
      "cmd",
      "dynamic-provider",
    );
    // Credentials only through stack config, so the run depends on the host calling configure.
    const host = await startProviderHost({ cwd: project, env: userEnv(), hostScript });
    const engine = new Engine(host, report.providerText);
    try {
      await host.configure(
        { "octopusdeploy:address": emulator.url, "octopusdeploy:apiKey": emulator.admin.apiKey },
        { secretKeys: ["octopusdeploy:apiKey"] },
      );
      expect(
        await engine.up("packed", { purpose: `packed ${version}`, username: "ci-bot" }),
      ).toEqual({
        step: "create",
      });
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

describe("installed from a git URL", () => {
  // npm clones a git dependency, installs its devDependencies and runs its `prepare` script
  // (the build) before packing it: without `prepare`, dist/ would be missing. The URL is a
  // repository made from this working tree (git+file://, no network for the clone itself).
  let project: string;
  let report: { resolved: string; exports: string[]; kinds: Record<string, string> };

  beforeAll(async () => {
    const started = Date.now();
    const repo = path.join(workDir, "clone");
    copyWorkingTree(repo);
    project = fs.mkdtempSync(path.join(workDir, "project-git-"));
    fs.writeFileSync(
      path.join(project, "package.json"),
      JSON.stringify({ name: "git-test-project", version: "0.0.0", private: true }, null, 2),
    );
    const args = ["install", `git+file://${repo}`, "@pulumi/pulumi@^3", ...INSTALL_FLAGS];
    await runOk("npm", args, {
      cwd: project,
      env: userEnv(),
      timeoutMs: INSTALL_TIMEOUT_MS - 30_000,
    });
    console.log(`installed from git+file:// in ${Date.now() - started} ms`);
    const checked = await runOk(
      process.execPath,
      [
        "-e",
        `const pkg = require("pulumi-octopus-apikey");
process.stdout.write(JSON.stringify({
  resolved: require("fs").realpathSync(require.resolve("pulumi-octopus-apikey")),
  exports: Object.keys(pkg).sort(),
  kinds: { OctopusApiKey: typeof pkg.OctopusApiKey, OctopusError: typeof pkg.OctopusError, provider: typeof pkg.provider },
}));`,
      ],
      { cwd: project, env: userEnv(), timeoutMs: 60_000 },
    );
    report = JSON.parse(checked.stdout);
  }, INSTALL_TIMEOUT_MS);

  test("the package is built on install: dist/ holds the entry points, and only the packed files", () => {
    const installed = path.join(project, "node_modules", "pulumi-octopus-apikey");
    expect(fs.lstatSync(installed).isSymbolicLink()).toBe(false);
    for (const file of ["dist/provider/index.js", "dist/provider/index.d.ts"]) {
      expect(fs.existsSync(path.join(installed, file))).toBe(true);
    }
    // What `files` allows, as from the tarball: no sources, tests or emulator.
    expect(fs.readdirSync(installed).sort()).toEqual(["README.md", "dist", "package.json"]);
    expect(fs.readdirSync(path.join(installed, "dist"))).toEqual(["provider"]);
  });

  test("require() loads the public API from the installed copy", () => {
    expect(report.resolved).toBe(
      fs.realpathSync(
        path.join(project, "node_modules/pulumi-octopus-apikey/dist/provider/index.js"),
      ),
    );
    expect(report.kinds).toEqual({
      OctopusApiKey: "function",
      OctopusError: "function",
      provider: "object",
    });
  });
});
