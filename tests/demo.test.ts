import * as path from "node:path";
import { OctopusEmulator } from "../emulator/server";
import { repoRoot } from "../harness/engine";
import { run, userEnv } from "./support/npm";

// `npm run demo` against a server that was already running, as a user runs it against
// `npm run emulator` or their own Octopus: OCTOPUS_URL and OCTOPUS_API_KEY in the environment.
// The demo is the compiled script the npm script execs, run as a child process.

const DEMO = path.join(repoRoot, "dist", "scripts", "demo.js");
/** Anything shaped like an Octopus API key; the hints the demo shows are "API-" + 4 characters. */
const KEY_SHAPED = /API-[A-Z0-9]{5,}/;

let emulator: OctopusEmulator;

beforeEach(async () => {
  emulator = await OctopusEmulator.start();
});

afterEach(async () => {
  await emulator?.close();
});

function demo(args: string[] = []) {
  return run(process.execPath, [DEMO, ...args], {
    cwd: repoRoot,
    env: userEnv({ OCTOPUS_URL: emulator.url, OCTOPUS_API_KEY: emulator.admin.apiKey }),
    timeoutMs: 120_000,
  });
}

const liveIds = () =>
  emulator
    .liveKeys()
    .map((k) => k.Id)
    .sort();

test("the demo drives create, refresh, rotation and destroy on the given server, and leaves nothing", async () => {
  const before = liveIds();
  const result = await demo();
  const output = result.stdout + result.stderr;
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
  // It used this server: two creates (the key and its replacement), two revokes.
  expect(emulator.stats.byRoute["POST /api/users/{id}/apikeys"]).toBe(2);
  expect(emulator.stats.byRoute["DELETE /api/users/{id}/apikeys/{id}"]).toBe(2);
  for (const step of ["Create", "Read", "Rotate", "Delete"]) expect(output).toContain(`▶ ${step}`);
  expect(output).toContain("none is left");
  expect(liveIds()).toEqual(before);
  expect(output).not.toContain(emulator.admin.apiKey);
  expect(output).not.toMatch(KEY_SHAPED);
}, 150_000);

test("a step that fails still revokes every key the demo created, and the demo fails", async () => {
  const before = liveIds();
  // Every read of a key fails (400 is not retried): the refresh after the create breaks.
  emulator.faults.add({ step: "read", kind: "status", status: 400, count: Infinity });
  const result = await demo();
  const output = result.stdout + result.stderr;
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/^demo failed: .*400/m);
  expect(emulator.stats.byRoute["POST /api/users/{id}/apikeys"]).toBe(1);
  expect(output).toMatch(/cleanup: revoked apikeys-/);
  expect(liveIds()).toEqual(before);
  expect(output).not.toContain(emulator.admin.apiKey);
  expect(output).not.toMatch(KEY_SHAPED);
}, 150_000);

test("--mistakes prints the provider's own message for each common mistake, none succeeding", async () => {
  const result = await run(process.execPath, [DEMO, "--mistakes"], {
    cwd: repoRoot,
    env: userEnv(),
    timeoutMs: 150_000,
  });
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
  const sections = result.stdout.split("\n▶ ").slice(1);
  expect(sections.length).toBeGreaterThanOrEqual(8);
  for (const section of sections) {
    // Each mistake fails at preview or at up, and the message follows, indented.
    expect(section).toMatch(/\n {2}pulumi (preview|up) fails.*:\n {4}\S/);
  }
  expect(result.stdout).toMatch(/401 Unauthorized/);
  expect(result.stdout).toMatch(/ECONNREFUSED|ERR_SOCKET_CLOSED_BEFORE_CONNECTION/);
  expect(result.stdout).toMatch(/purpose: is required/);
  expect(result.stdout).not.toMatch(KEY_SHAPED);
}, 180_000);

test("an address with a password in it fails, and the demo never prints the password", async () => {
  const withPassword = emulator.url.replace("http://", "http://admin:Demo-Pa55word-Probe@");
  const result = await run(process.execPath, [DEMO], {
    cwd: repoRoot,
    env: userEnv({ OCTOPUS_URL: withPassword, OCTOPUS_API_KEY: emulator.admin.apiKey }),
    timeoutMs: 120_000,
  });
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/^demo failed: /m);
  expect(result.stdout + result.stderr).not.toContain("Demo-Pa55word-Probe");
  expect(emulator.stats.byRoute["POST /api/users/{id}/apikeys"]).toBeUndefined();
}, 150_000);
