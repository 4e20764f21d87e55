/**
 * What the install tests share: running npm and node as a user would (no shell, a user's
 * environment), packing the package, and copying the repository as a fresh clone would hold it.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot } from "../../harness/engine";

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (never through a shell); rejects only if it cannot start or times out. */
export function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command} ${args.join(" ")} timed out after ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** {@link run}, failing with npm's own words (the end of its stderr) unless the command exits 0. */
export async function runOk(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<Run> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (exit ${result.code}) in ${options.cwd}. ${NEEDS}\n` +
        `${result.stdout.slice(-2000)}\n${result.stderr.slice(-4000)}`,
    );
  }
  return result;
}

/** Said with every failed install: these tests fail, never skip, without the registry. */
export const NEEDS =
  "Installs need the npm registry (or a warm npm cache); the test fails rather than skips without it.";

/** npm flags for installs in tests: the cache first, and a quick failure without the registry. */
export const INSTALL_FLAGS = [
  "--prefer-offline",
  "--no-audit",
  "--no-fund",
  "--fetch-retries=2",
  "--fetch-retry-mintimeout=2000",
  "--fetch-retry-maxtimeout=10000",
];

/**
 * The environment of a user's shell: without the variables `npm run` sets for this repository
 * (npm_config_local_prefix would point npm back here; npm's other settings, such as a registry,
 * stay), no NODE_PATH (nothing outside the project may resolve), no Octopus settings, and no
 * NODE_OPTIONS of Jest's.
 */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  const fromNpmRun =
    /^npm_(package_|lifecycle_|command$|execpath$|node_execpath$|config_local_prefix$)/i;
  for (const name of Object.keys(env)) {
    if (fromNpmRun.test(name) || name.startsWith("OCTOPUS_")) delete env[name];
  }
  delete env.NODE_PATH;
  delete env.NODE_OPTIONS;
  return { ...env, ...extra };
}

export interface Packed {
  tarball: string;
  files: string[];
  size: number;
  unpackedSize: number;
}

/**
 * `npm pack` of the repository into `dir`. `--ignore-scripts`: `prepare` would rebuild dist/ under
 * the running tests; the suite runs on a fresh build, which is what gets packed.
 */
export async function pack(dir: string): Promise<Packed> {
  const packed = await runOk(
    "npm",
    ["pack", "--ignore-scripts", "--json", "--pack-destination", dir],
    { cwd: repoRoot, env: userEnv(), timeoutMs: 120_000 },
  );
  const [result] = JSON.parse(packed.stdout) as Array<{
    filename: string;
    size: number;
    unpackedSize: number;
    files: Array<{ path: string }>;
  }>;
  return {
    tarball: path.join(dir, result.filename),
    files: result.files.map((f) => f.path).sort(),
    size: result.size,
    unpackedSize: result.unpackedSize,
  };
}

/**
 * Copies the repository's working tree as a fresh clone would hold it — every file git tracks or
 * would track (so uncommitted work is tested too), nothing it ignores (no node_modules, no dist)
 * — into `dest`, and commits it there as a repository of its own, so `git+file://` URLs work.
 */
export function copyWorkingTree(dest: string): void {
  const listed = spawnSync(
    "git",
    ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    {
      cwd: repoRoot,
      encoding: "utf8",
    },
  );
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  for (const file of listed.stdout.split("\0").filter(Boolean)) {
    const from = path.join(repoRoot, file);
    if (!fs.existsSync(from)) continue; // deleted in the working tree, not yet in the index
    fs.mkdirSync(path.dirname(path.join(dest, file)), { recursive: true });
    fs.copyFileSync(from, path.join(dest, file));
    fs.chmodSync(path.join(dest, file), fs.statSync(from).mode);
  }
  const git = (...args: string[]) => {
    const result = spawnSync("git", args, { cwd: dest, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`git ${args.join(" ")} failed: ${result.stderr}`);
  };
  git("init", "--quiet", "--initial-branch=main");
  git("add", "--all");
  git(
    "-c",
    "user.name=tests",
    "-c",
    "user.email=tests@example.invalid",
    "commit",
    "--quiet",
    "--no-gpg-sign",
    "-m",
    "working tree",
  );
}
