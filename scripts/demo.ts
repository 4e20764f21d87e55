/**
 * `npm run demo`: provisions, refreshes, rotates and revokes an Octopus API key end to end.
 *
 * - With OCTOPUS_URL and a credential (OCTOPUS_API_KEY or OCTOPUS_ACCESS_TOKEN) set, against that
 *   server — an emulator started elsewhere (`npm run emulator`) or a real Octopus, the check a
 *   user runs before trusting the package. It creates keys for the caller's own user (or
 *   `--username NAME`) with a purpose that says what they are and a one-day expiry, drives them
 *   through the real @pulumi/pulumi provider host, and revokes every key it created, even when a
 *   step fails. It never prints a key or the credential.
 * - Otherwise on an emulator of its own: with the Pulumi CLI on PATH it runs `pulumi up` and
 *   `pulumi destroy` on the quickstart (the repository root project) with a local file backend in
 *   a temporary folder; without it, it drives the quickstart's resource through the provider host.
 * - `--mistakes`: makes each common mistake against an emulator of its own and prints the
 *   provider's actual message for each (scripts/demo-mistakes.ts).
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { OctopusEmulator } from "../emulator/server";
import { OctopusApiKey } from "../provider";
import { startProviderHost } from "../harness/host";
import { captureProviderText } from "../harness/mocks";
import { runLifecycle } from "./demo-lifecycle";
import { showMistakes } from "./demo-mistakes";

const root = path.resolve(__dirname, "..", "..");

/** What the demo's keys say they are, in Octopus's list of the user's keys. */
const DEMO_PURPOSE = "pulumi-octopus-apikey: npm run demo (short-lived; safe to revoke)";
/** Short, and explicit, so that a key a crash left behind lapses by itself within a day. */
const DEMO_EXPIRES_IN = "1d";

function showServer(emulator: OctopusEmulator, userId: string): void {
  const keys = emulator.liveKeys(userId);
  console.log(`  Octopus (emulator) now holds ${keys.length} live key(s) for ${userId}:`);
  for (const k of keys) console.log(`    ${k.Id}  purpose="${k.Purpose}"  expires=${k.Expires}`);
}

function hasPulumiCli(): boolean {
  return spawnSync("pulumi", ["version"], { stdio: "ignore" }).status === 0;
}

async function withPulumiCli(emulator: OctopusEmulator): Promise<void> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "octopus-apikey-demo-"));
  const env = {
    ...process.env,
    PULUMI_HOME: path.join(home, "home"),
    PULUMI_BACKEND_URL: `file://${home}`,
    PULUMI_CONFIG_PASSPHRASE: "demo-only-passphrase",
    OCTOPUS_URL: emulator.url,
    OCTOPUS_API_KEY: emulator.admin.apiKey,
  };
  // Asynchronous on purpose: the emulator answers from this process while pulumi runs.
  const run = (...args: string[]) =>
    new Promise<void>((resolve, reject) => {
      console.log(`\n$ pulumi ${args.join(" ")}`);
      spawn("pulumi", args, { cwd: root, env, stdio: "inherit" })
        .on("error", reject)
        .on("exit", (code) =>
          code === 0 ? resolve() : reject(new Error(`pulumi ${args[0]} failed (exit ${code})`)),
        );
    });
  try {
    await run("stack", "init", "demo", "--secrets-provider", "passphrase");
    await run("up", "--yes", "--skip-preview");
    showServer(emulator, emulator.serviceAccount.id);
    await run("destroy", "--yes", "--skip-preview");
    showServer(emulator, emulator.serviceAccount.id);
    await run("stack", "rm", "demo", "--yes");
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(path.join(root, "Pulumi.demo.yaml"), { force: true });
  }
}

/** Runs the quickstart program (index.ts) under Pulumi mocks and returns its key's registration. */
async function quickstartResource() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require("typescript") as typeof import("typescript");
  const source = fs.readFileSync(path.join(root, "index.ts"), "utf8");
  const program = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const { text, registrations } = await captureProviderText(() => {
    new Function("require", "exports", program)(require, {});
  });
  const key = registrations.find((r) => r.type === "pulumi-nodejs:dynamic/octopusdeploy:ApiKey");
  if (!key) throw new Error("the quickstart declared no OctopusApiKey");
  const inputs: Record<string, unknown> = { ...key.inputs, __provider: text };
  return { name: key.name, inputs };
}

async function withProviderHost(emulator: OctopusEmulator): Promise<void> {
  const { name, inputs } = await quickstartResource();
  const { __provider: providerText, ...program } = inputs;
  const host = await startProviderHost({
    cwd: root,
    env: { ...process.env, OCTOPUS_URL: emulator.url, OCTOPUS_API_KEY: emulator.admin.apiKey },
  });
  try {
    await host.configure({});
    await runLifecycle(host, {
      name,
      inputs: program,
      providerText: String(providerText),
      afterStep: () => showServer(emulator, emulator.serviceAccount.id),
    });
    console.log("\nDone: the key was created, refreshed, rotated and revoked.");
  } finally {
    await host.close();
  }
}

/** An address as it may be printed: without user info or query, which could hold a credential. */
function shown(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "not a URL; the provider says why below";
  }
}

/** The lifecycle against the server the environment names, as a user would check their own. */
async function againstServer(url: string, username: string | undefined): Promise<void> {
  const owner = username ? `"${username}"` : "the caller's own user";
  console.log(
    `Using the server in OCTOPUS_URL (${shown(url)}) and the credential in the environment.`,
  );
  console.log(`Keys are made for ${owner}, expire in ${DEMO_EXPIRES_IN}, and have the purpose`);
  console.log(`  "${DEMO_PURPOSE}".`);
  console.log("Every key the demo creates is revoked before it ends, even when a step fails.");
  const { text } = await captureProviderText(() => {
    new OctopusApiKey("demo", { purpose: DEMO_PURPOSE });
  });
  const host = await startProviderHost({ cwd: root, env: process.env });
  try {
    await host.configure({});
    await runLifecycle(host, {
      name: "demo",
      inputs: {
        purpose: DEMO_PURPOSE,
        expiresIn: DEMO_EXPIRES_IN,
        ...(username ? { username } : {}),
      },
      providerText: text,
    });
    console.log("\nDone: the key was created, refreshed, rotated and revoked; none is left.");
  } finally {
    await host.close();
  }
}

async function mistakesMode(): Promise<void> {
  const emulator = await OctopusEmulator.start();
  console.log(
    `Each common mistake, made against an emulator of the demo's own (${emulator.url}),\n` +
      "with the message the provider gives (what `pulumi preview` / `pulumi up` would print).",
  );
  try {
    const { inputs } = await quickstartResource();
    const unexpected = await showMistakes(emulator, String(inputs.__provider), root);
    if (unexpected > 0) throw new Error(`${unexpected} mistake(s) did not fail`);
  } finally {
    await emulator.close();
  }
}

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  if (at < 0) return undefined;
  const value = process.argv[at + 1];
  if (!value || value.startsWith("--")) throw new Error(`${name} needs a value`);
  return value;
}

async function main(): Promise<void> {
  const known = new Set(["--mistakes", "--username"]);
  const unknown = process.argv
    .slice(2)
    .filter((a, i, all) => a.startsWith("--") && !known.has(a) && all[i - 1] !== "--username");
  if (unknown.length > 0) {
    throw new Error(
      `unknown option ${unknown[0]}; usage: npm run demo [-- --mistakes | --username NAME]`,
    );
  }
  if (process.argv.includes("--mistakes")) return mistakesMode();
  const url = process.env.OCTOPUS_URL;
  const credential =
    process.env.OCTOPUS_API_KEY || process.env.OCTOPUS_APIKEY || process.env.OCTOPUS_ACCESS_TOKEN;
  if (url && credential) return againstServer(url, option("--username"));
  if (url || credential) {
    throw new Error(
      "set both OCTOPUS_URL and OCTOPUS_API_KEY (or OCTOPUS_ACCESS_TOKEN) to run against a server, or neither to use an emulator of the demo's own",
    );
  }

  const emulator = await OctopusEmulator.start();
  console.log(`Octopus emulator listening at ${emulator.url}`);
  try {
    if (hasPulumiCli()) {
      await withPulumiCli(emulator);
    } else {
      console.log(
        "The Pulumi CLI is not on PATH, so `pulumi up` cannot run here. Driving the quickstart's\n" +
          "resource through the real @pulumi/pulumi provider host instead, as the engine would.",
      );
      await withProviderHost(emulator);
    }
  } finally {
    await emulator.close();
  }
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
