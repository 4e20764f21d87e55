/**
 * `npm run test:engine`: the real Pulumi engine on the quickstart (the repository root) and on
 * every example under examples/ with a Pulumi.yaml, against the emulator, with a local file
 * backend: `pulumi up`, `pulumi refresh` and `pulumi destroy`, then a check that the emulator
 * holds no live key made by the run.
 *
 * Needs the Pulumi CLI on PATH. Without it, it prints that nothing ran and why, and exits 0: a
 * skip, never a pass. Examples that also declare Kubernetes resources run only where a cluster
 * is configured (KUBECONFIG or ~/.kube/config); otherwise they are skipped, with a message.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { OctopusEmulator } from "../emulator/server";

const root = path.resolve(__dirname, "..", "..");
const STACK = "test";
const COMMAND_TIMEOUT_MS = 10 * 60_000;

interface Project {
  /** Relative to the repository root ("." for the quickstart). */
  name: string;
  dir: string;
  /** Why it cannot run here, if it cannot. */
  skip?: string;
}

/** Runs a command with inherited output; resolves to its exit code (-1 if it could not start). */
function run(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; quiet?: boolean },
): Promise<number> {
  return new Promise((resolve) => {
    if (!options.quiet) console.log(`\n$ (${options.cwd}) ${command} ${args.join(" ")}`);
    // Asynchronous on purpose: the emulator answers the engine from this very process.
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: options.quiet ? "ignore" : ["ignore", "inherit", "inherit"],
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), COMMAND_TIMEOUT_MS);
    child.once("error", () => {
      clearTimeout(timer);
      resolve(-1);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve(code ?? -1);
    });
  });
}

function hasKubernetesConfig(): boolean {
  return (
    Boolean(process.env.KUBECONFIG) || fs.existsSync(path.join(os.homedir(), ".kube", "config"))
  );
}

function projects(): Project[] {
  const found: Project[] = [];
  if (fs.existsSync(path.join(root, "Pulumi.yaml"))) found.push({ name: ".", dir: root });
  const examples = path.join(root, "examples");
  const entries = fs.existsSync(examples) ? fs.readdirSync(examples).sort() : [];
  for (const entry of entries) {
    const dir = path.join(examples, entry);
    if (!fs.existsSync(path.join(dir, "Pulumi.yaml"))) continue;
    const manifest = path.join(dir, "package.json");
    const deps = fs.existsSync(manifest)
      ? Object.keys(JSON.parse(fs.readFileSync(manifest, "utf8")).dependencies ?? {})
      : [];
    const project: Project = { name: `examples/${entry}`, dir };
    if (deps.includes("@pulumi/kubernetes") && !hasKubernetesConfig()) {
      project.skip =
        "it also creates Kubernetes resources and no cluster is configured (set KUBECONFIG)";
    }
    found.push(project);
  }
  return found;
}

/** Up, refresh and destroy one project on its own file backend; throws on the first failure. */
async function exercise(project: Project, emulator: OctopusEmulator): Promise<void> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "octopus-apikey-engine-"));
  const stackFile = path.join(project.dir, `Pulumi.${STACK}.yaml`);
  const hadStackFile = fs.existsSync(stackFile);
  const inherited = { ...process.env };
  for (const name of Object.keys(inherited)) {
    if (name.startsWith("OCTOPUS_") || name.startsWith("PULUMI_")) delete inherited[name];
  }
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    PULUMI_HOME: path.join(scratch, "home"),
    PULUMI_CONFIG_PASSPHRASE: "test-engine-only-passphrase",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    OCTOPUS_URL: emulator.url,
    OCTOPUS_API_KEY: emulator.admin.apiKey,
  };
  const pulumi = async (...args: string[]) => {
    const code = await run("pulumi", [...args, "--non-interactive"], { cwd: project.dir, env });
    if (code !== 0) throw new Error(`pulumi ${args.join(" ")} failed (exit ${code})`);
  };
  const before = new Set(emulator.liveKeys().map((k) => k.Id));
  const made = () => emulator.liveKeys().filter((k) => !before.has(k.Id));
  let stackCreated = false;
  try {
    if (project.dir !== root && !fs.existsSync(path.join(project.dir, "node_modules"))) {
      const code = await run(
        "npm",
        ["install", "--no-audit", "--no-fund", "--no-package-lock", "--prefer-offline"],
        { cwd: project.dir, env },
      );
      if (code !== 0) throw new Error(`npm install failed in ${project.name} (exit ${code})`);
    }
    await pulumi("login", `file://${path.join(scratch, "backend")}`);
    await pulumi("stack", "init", STACK, "--secrets-provider", "passphrase");
    stackCreated = true;
    await pulumi("up", "--yes", "--skip-preview", "--stack", STACK);
    const live = made();
    if (live.length === 0) throw new Error("pulumi up made no API key on the emulator");
    console.log(`\n${project.name}: pulumi up made ${live.map((k) => k.Id).join(", ")}`);
    await pulumi("refresh", "--yes", "--skip-preview", "--stack", STACK);
    await pulumi("destroy", "--yes", "--skip-preview", "--stack", STACK);
    const left = made();
    if (left.length > 0) {
      throw new Error(`keys still live after pulumi destroy: ${left.map((k) => k.Id).join(", ")}`);
    }
  } catch (error) {
    if (stackCreated && made().length > 0) {
      // Clean up what the failed run left, so the next project starts from nothing of this one's.
      await run(
        "pulumi",
        ["destroy", "--yes", "--skip-preview", "--stack", STACK, "--non-interactive"],
        {
          cwd: project.dir,
          env,
          quiet: true,
        },
      );
    }
    throw error;
  } finally {
    if (!hadStackFile) fs.rmSync(stackFile, { force: true });
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  if ((await run("pulumi", ["version"], { cwd: root, env: process.env, quiet: true })) !== 0) {
    console.log(
      "test:engine: SKIPPED. The Pulumi CLI (`pulumi`) is not on PATH, so no `pulumi up`, " +
        "`pulumi refresh` or `pulumi destroy` ran: nothing was tested. Install the Pulumi CLI " +
        "and run `npm run test:engine` again. (The provider host itself is tested without it " +
        "by `npm run test:unit`.)",
    );
    return 0;
  }
  const all = projects();
  if (all.length === 0) {
    console.error("test:engine: found no Pulumi.yaml at the root or under examples/");
    return 1;
  }
  const emulator = await OctopusEmulator.start();
  const results: string[] = [];
  let failed = 0;
  try {
    for (const project of all) {
      if (project.skip) {
        results.push(`SKIPPED ${project.name}: ${project.skip}`);
        continue;
      }
      try {
        await exercise(project, emulator);
        results.push(`passed  ${project.name}: up, refresh, destroy; no key left`);
      } catch (error) {
        failed++;
        results.push(`FAILED  ${project.name}: ${(error as Error).message}`);
      }
    }
  } finally {
    await emulator.close();
  }
  console.log(`\ntest:engine against the emulator:\n${results.map((r) => `  ${r}`).join("\n")}`);
  const ran = all.filter((p) => !p.skip).length;
  console.log(`${ran - failed} passed, ${failed} failed, ${all.length - ran} skipped`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
