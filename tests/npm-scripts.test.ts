import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { repoRoot } from "../harness/engine";
import { run, userEnv } from "./support/npm";

// The `npm run` scripts: the incremental build, and the ones a user starts by hand. npm runs a script through `sh -c`: a signal sent
// to npm reaches the shell, and a node started by the shell (rather than exec'd in its place)
// would keep running, holding the port.

const WAIT_MS = 20_000;

/** Resolves once `stream` has printed a line matching `pattern`; rejects after `ms`. */
function lineMatching(child: ChildProcess, pattern: RegExp, ms: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(
      () => reject(new Error(`no line matching ${pattern} within ${ms} ms; got:\n${seen}`)),
      ms,
    );
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      seen += chunk;
      const match = seen.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before a line matching ${pattern}; got:\n${seen}`));
    });
  });
}

/** Whether something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Whether any process of process group `pgid` is still alive. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw error;
  }
}

/** Polls `check` every 100 ms until it returns true or `ms` pass; returns its last answer. */
async function eventually(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("`npm run emulator` stopped with SIGTERM leaves no process and frees its port", async () => {
  // A process group of its own, so the test can see (and finally clean up) every process npm
  // started, and never signals anything else.
  const npm = spawn("npm", ["run", "emulator", "--silent", "--", "--port", "0"], {
    cwd: repoRoot,
    env: userEnv(),
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const pgid = npm.pid!;
  try {
    const [, port] = await lineMatching(npm, /^OCTOPUS_URL=http:\/\/127\.0\.0\.1:(\d+)/m, 120_000);
    expect(await listening(Number(port))).toBe(true);

    const exited = new Promise<number | null>((resolve) => npm.once("exit", resolve));
    process.kill(npm.pid!, "SIGTERM"); // npm's own process only, as a terminal or supervisor would
    await exited;
    expect(await eventually(async () => !(await listening(Number(port))), WAIT_MS)).toBe(true);
    expect(await eventually(() => !groupAlive(pgid), WAIT_MS)).toBe(true);
  } finally {
    if (groupAlive(pgid)) process.kill(-pgid, "SIGKILL");
  }
}, 180_000);

test("the incremental build removes compiled files whose source was deleted, and nothing else", async () => {
  // Probes standing for the output of a deleted test and a deleted module; kept sources stay.
  const stale = ["tests/zz-deleted-probe.test.js", "provider/zz-deleted-probe.d.ts"].map((f) =>
    path.join(repoRoot, "dist", f),
  );
  const kept = path.join(repoRoot, "dist", "provider", "index.js");
  for (const file of stale) fs.writeFileSync(file, "throw new Error('stale');\n");
  try {
    const result = await run(process.execPath, ["scripts/build.mjs", "--prune-only"], {
      cwd: repoRoot,
      env: userEnv(),
      timeoutMs: 60_000,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("removed 2 stale file(s)");
    for (const file of stale) expect(fs.existsSync(file)).toBe(false);
    expect(fs.existsSync(kept)).toBe(true);
  } finally {
    for (const file of stale) fs.rmSync(file, { force: true });
  }
});
