/**
 * `npm run demo`: provisions and revokes an Octopus API key end to end on the local emulator.
 *
 * With the Pulumi CLI on PATH it runs `pulumi up` and `pulumi destroy` on the quickstart (the
 * repository root project) with a local file backend in a temporary folder. Without it (as on
 * machines where the CLI cannot be installed) it says so and drives the quickstart's own resource
 * through the real @pulumi/pulumi provider host, step by step, as the engine would.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { OctopusEmulator } from "../emulator/server";
import { resourceUrn, startProviderHost } from "../tests/support/host";
import { captureProviderText } from "../tests/support/mocks";

const root = path.resolve(__dirname, "..", "..");

function mask(key: unknown): string {
  return typeof key === "string"
    ? `${key.slice(0, 8)}${"•".repeat(Math.max(0, key.length - 8))}`
    : "(none)";
}

function step(title: string): void {
  console.log(`\n▶ ${title}`);
}

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
  const urn = resourceUrn(name);
  const host = await startProviderHost({
    cwd: root,
    env: { ...process.env, OCTOPUS_URL: emulator.url, OCTOPUS_API_KEY: emulator.admin.apiKey },
  });
  try {
    await host.configure({});
    step(`Check ${name} (purpose "${String(inputs.purpose)}", user "${String(inputs.username)}")`);
    const checked = await host.check(urn, {}, inputs);
    if (checked.failures.length > 0) {
      throw new Error(checked.failures.map((f) => `${f.property}: ${f.reason}`).join("; "));
    }
    console.log("  inputs are valid; nothing has been sent to Octopus yet");

    step("Create (pulumi up)");
    const created = await host.create(urn, checked.inputs);
    const outs = created.properties;
    console.log(`  id       ${created.id}`);
    console.log(`  apiKey   ${mask(outs.apiKey)}  (secret output; masked here)`);
    console.log(`  owner    ${String(outs.username)} (${String(outs.userId)})`);
    console.log(`  expires  ${String(outs.expires)}`);
    showServer(emulator, String(outs.userId));

    step("Read (pulumi refresh)");
    const read = await host.read(created.id, urn, outs);
    console.log(
      `  still there: ${read.id === created.id}; secret kept: ${read.properties.apiKey === outs.apiKey}`,
    );

    step("Delete (pulumi destroy)");
    await host.delete(created.id, urn, read.properties);
    showServer(emulator, String(outs.userId));
    if (emulator.hasKey(created.id)) throw new Error("the key is still live after delete");
    console.log("\nDone: the key was created, refreshed and revoked.");
  } finally {
    await host.close();
  }
}

async function main(): Promise<void> {
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
