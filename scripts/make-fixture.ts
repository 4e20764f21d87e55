/**
 * Writes `tests/__fixtures__/release-<N>-outputs.json` and `release-<N>-provider.txt`: the inputs
 * and outputs that this build stores for a few resources, produced the way the engine produces
 * them (the real provider text, Check and Create through the real provider host, against the
 * emulator). N is this build's STATE_VERSION. tests/upgrade.test.ts replays every fixture through
 * the current build, so state written by each release stays readable by every later one.
 *
 *   npm run build && node dist/scripts/make-fixture.js [--force]
 *
 * A fixture is the record of a released state shape: it is written once, when that release is
 * cut, and never regenerated afterwards (the script refuses to overwrite one without --force).
 * Secrets in it are the emulator's throw-away keys.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { OctopusEmulator } from "../emulator/server";
import { STATE_VERSION } from "../provider/core/state";
import { emulatorEnv, Engine, repoRoot } from "../harness/engine";
import { Fixture, FIXTURE_DIR, FixtureResource, fixturePaths } from "../harness/fixtures";

async function main(argv: string[]): Promise<void> {
  const force = argv.includes("--force");
  const paths = fixturePaths(STATE_VERSION);
  if (!force && fs.existsSync(paths.outputs)) {
    throw new Error(
      `${path.relative(repoRoot, paths.outputs)} exists: fixtures record released state and are not regenerated (use --force if this release is not out yet)`,
    );
  }

  const emulator = await OctopusEmulator.start({ seed: 1 });
  const engine = await Engine.start({ env: emulatorEnv(emulator) });
  try {
    // One resource per way of choosing the user, between them every optional input.
    const programs: Record<string, Record<string, unknown>> = {
      "by-username": {
        purpose: "release fixture: by username",
        username: "CI-BOT",
        expiresIn: "90d",
        rotateBefore: "14d",
        rotationTriggers: { schedule: "2025-q1" },
      },
      "by-id-with-connection": {
        purpose: "release fixture: by id, explicit connection",
        userId: emulator.serviceAccount.id,
        expiresAt: new Date(Date.now() + 200 * 86_400_000).toISOString(),
        connection: { address: emulator.url, apiKey: emulator.admin.apiKey, requestTimeout: "45s" },
      },
      "own-key": { purpose: "release fixture: the caller's own key" },
    };
    const resources: FixtureResource[] = [];
    for (const [name, program] of Object.entries(programs)) {
      await engine.up(name, program);
      const stored = engine.state.get(name);
      if (!stored) throw new Error(`${name} was not created`);
      resources.push({ name, urn: engine.urn(name), ...stored });
    }
    for (const name of Object.keys(programs)) await engine.destroy(name);
    if (emulator.liveKeys().some((k) => k.Purpose.startsWith("release fixture"))) {
      throw new Error("destroying the fixture's resources left keys behind");
    }

    const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8"));
    const pulumi = JSON.parse(
      fs.readFileSync(require.resolve("@pulumi/pulumi/package.json"), "utf8"),
    );
    const fixture: Fixture = {
      about:
        "Inputs and outputs as this release stores them, as the provider host sees them (secrets in plain text, as the engine decrypts them for the host), made by scripts/make-fixture.ts against the emulator, whose keys these are. Never edit or regenerate: later releases must read them as they are.",
      release: STATE_VERSION,
      stateVersion: STATE_VERSION,
      packageVersion: manifest.version,
      pulumiVersion: pulumi.version,
      nodeVersion: process.version,
      generatedAt: new Date().toISOString(),
      serverUrl: emulator.url,
      resources,
    };
    const prettier = await import("prettier");
    const json = await prettier.format(JSON.stringify(fixture), {
      parser: "json",
      ...(await prettier.resolveConfig(paths.outputs)),
    });
    fs.mkdirSync(FIXTURE_DIR, { recursive: true });
    fs.writeFileSync(paths.outputs, json);
    fs.writeFileSync(paths.providerText, engine.providerText);
    console.log(`wrote ${path.relative(repoRoot, paths.outputs)} (${resources.length} resources)`);
    console.log(
      `wrote ${path.relative(repoRoot, paths.providerText)} (${Buffer.byteLength(engine.providerText)} bytes)`,
    );
  } finally {
    await engine.close();
    await emulator.close();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
