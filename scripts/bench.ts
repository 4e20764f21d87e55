/**
 * `npm run bench`: how close creating and revoking Octopus API keys through this package comes to
 * the physical minimum (one POST per key), measured against the local emulator (issue 6).
 *
 *   npm run bench -- [--n 200] [--parallelism 10] [--latency 20] [--users 10000] [--repeats 3]
 *                    [--check]
 *
 * What is measured (times are medians over `repeats`):
 * - ours: N creates (Check + Create, as the engine does) then N deletes of keys for one service
 *   account, looked up by username, through the real @pulumi/pulumi provider host over gRPC; a new
 *   host each repeat, so each repeat pays its one user lookup.
 * - raw: the same N POSTs and N DELETEs sent directly with got (keep-alive), user id known upfront.
 * - seed: the seed scripts' method, GET /api/users/all then POST, per key. Only the creates are
 *   timed for `seedVsOurs` (the scripts never revoke); the cleanup DELETEs are timed separately.
 * - lookup bytes: response bytes of OctopusClient.findUserByUsername among 10,000 users and 10.
 * - cold start: spawning a host to its first Create's completion, ours vs a trivial provider.
 * - module load: require("pulumi-octopus-apikey") and the first got import in a fresh process.
 *
 * The table goes to stdout, progress to stderr; the last line of stdout is one JSON object. Missed
 * goals only fail the process with --check.
 */
import { spawn } from "node:child_process";
import http from "node:http";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { Got } from "got" with { "resolution-mode": "import" };
import { OctopusEmulator } from "../emulator/server";
import { OctopusApiKey } from "../provider";
import { OctopusClient } from "../provider/client";
import { emulatorEnv, Engine } from "../tests/support/engine";
import { captureProviderText } from "../tests/support/mocks";

/** The repository root, where the engine would run the host (dist/scripts/bench.js → ../..). */
const root = path.resolve(__dirname, "..", "..");
/** Purposes of every key this benchmark makes start with this, so leftovers can be found. */
const PURPOSE = "bench";
const COLD_START_RUNS = 7;
const MODULE_LOAD_RUNS = 3;

interface Options {
  n: number;
  parallelism: number;
  latency: number;
  users: number;
  repeats: number;
  check: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    n: 200,
    parallelism: 10,
    latency: 20,
    users: 10_000,
    repeats: 3,
    check: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split("=", 2);
    const name = flag.replace(/^--/, "");
    if (name === "check") {
      options.check = true;
      continue;
    }
    if (!(name in options) || name === flag) usage(`unknown option ${argv[i]}`);
    const raw = inline ?? argv[++i];
    const value = Number(raw);
    const min = name === "latency" || name === "users" ? 0 : 1;
    if (!Number.isInteger(value) || value < min) usage(`--${name} needs an integer ≥ ${min}`);
    (options as unknown as Record<string, number>)[name] = value;
  }
  return options;
}

function usage(problem: string): never {
  process.stderr.write(
    `${problem}\nusage: npm run bench -- [--n 200] [--parallelism 10] [--latency 20] [--users 10000] [--repeats 3] [--check]\n`,
  );
  process.exit(2);
}

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

async function timed<T>(body: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await body();
  return { ms: performance.now() - started, value };
}

/**
 * Runs `task(0…count-1)` with at most `parallelism` in flight. After a failure no new task starts;
 * the first error is thrown once the running ones have settled, so nothing is left in the air.
 */
async function pool<T>(
  count: number,
  parallelism: number,
  task: (index: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array(count);
  const errors: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (errors.length === 0 && next < count) {
      const index = next++;
      try {
        results[index] = await task(index);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallelism, count) }, worker));
  if (errors.length > 0) throw errors[0];
  return results;
}

/**
 * The `__provider` texts the engine would store for an OctopusApiKey, for a trivial dynamic
 * provider (cold start baseline) and for one that only waits `waitMs` per create and delete (the
 * floor of the host and gRPC path), captured in one run of the Pulumi mocks (one run per process).
 */
async function providerTexts(
  waitMs: number,
): Promise<{ ours: string; trivial: string; waiting: string }> {
  const trivialProvider: pulumi.dynamic.ResourceProvider = {
    async create() {
      return { id: "x", outs: {} };
    },
    async delete() {},
  };
  const waitingProvider: pulumi.dynamic.ResourceProvider = {
    async create() {
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      return { id: "x", outs: {} };
    },
    async delete() {
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    },
  };
  // Resource is abstract; a subclass is how programs (and this package) use it.
  class Bench extends pulumi.dynamic.Resource {}
  const { registrations } = await captureProviderText(() => {
    new OctopusApiKey("ours", { purpose: "captured" });
    new Bench(trivialProvider, "trivial", {}, undefined, "bench", "Trivial");
    new Bench(waitingProvider, "waiting", {}, undefined, "bench", "Waiting");
  });
  const text = (name: string): string => {
    const value = registrations.find((r) => r.name === name)?.inputs.__provider;
    if (typeof value !== "string") throw new Error(`no __provider was captured for ${name}`);
    return value;
  };
  return { ours: text("ours"), trivial: text("trivial"), waiting: text("waiting") };
}

interface Phase {
  createMs: number;
  deleteMs: number;
}

interface HostPhase extends Phase {
  /** From the start of the creates to the first one's completion (first use of the host). */
  firstCreateMs: number;
  createRequests: number;
  byRoute: Record<string, number>;
}

/**
 * N creates then N deletes through a new, configured provider host, as one `pulumi up` and one
 * `pulumi destroy` would drive it (Check then Create per resource; Delete). The emulator's
 * request counts cover the creates only.
 */
async function runHost(
  emulator: OctopusEmulator,
  text: string,
  o: Options,
  label: string,
): Promise<HostPhase> {
  const engine = await Engine.start({ env: emulatorEnv(emulator), providerText: text });
  try {
    const names = Array.from({ length: o.n }, (_, i) => `key-${i}`);
    const program = (i: number) => ({
      purpose: `${PURPOSE} ${label}.${i}`,
      username: emulator.serviceAccount.username,
    });
    await emulator.idle();
    emulator.resetStats();
    const started = performance.now();
    let firstCreateMs = 0;
    const creates = await timed(() =>
      pool(o.n, o.parallelism, async (i) => {
        await engine.up(names[i], program(i));
        firstCreateMs ||= performance.now() - started;
      }),
    );
    const createRequests = emulator.stats.requests;
    const byRoute = { ...emulator.stats.byRoute };
    const deletes = await timed(() => pool(o.n, o.parallelism, (i) => engine.destroy(names[i])));
    return {
      createMs: creates.ms,
      deleteMs: deletes.ms,
      firstCreateMs,
      createRequests,
      byRoute,
    };
  } finally {
    await engine.close();
  }
}

/** A got client set up as a careful script would: keep-alive, no retries, the admin's key. */
function rawClient(got: Got, emulator: OctopusEmulator): Got {
  return got.extend({
    headers: { "x-octopus-apikey": emulator.admin.apiKey, accept: "application/json" },
    agent: { http: new http.Agent({ keepAlive: true, maxSockets: 32 }) },
    retry: { limit: 0 },
  });
}

interface CreatedKey {
  Id: string;
  UserId: string;
}

function deleteAll(
  client: Got,
  emulator: OctopusEmulator,
  keys: CreatedKey[],
  parallelism: number,
) {
  return pool(keys.length, parallelism, (i) =>
    client.delete(`${emulator.url}/api/users/${keys[i].UserId}/apikeys/${keys[i].Id}`),
  );
}

/** The same N POSTs and N DELETEs sent straight with got, the user's id known upfront. */
async function runRaw(
  client: Got,
  emulator: OctopusEmulator,
  o: Options,
  repeat: number,
): Promise<Phase> {
  const userId = emulator.serviceAccount.id;
  const creates = await timed(() =>
    pool(o.n, o.parallelism, (i) =>
      client
        .post(`${emulator.url}/api/users/${userId}/apikeys`, {
          json: { Purpose: `${PURPOSE} raw ${repeat}.${i}` },
        })
        .json<CreatedKey>(),
    ),
  );
  const deletes = await timed(() => deleteAll(client, emulator, creates.value, o.parallelism));
  return { createMs: creates.ms, deleteMs: deletes.ms };
}

/** The seed scripts' method per key: every user, find the one by name, then POST. */
async function runSeed(
  client: Got,
  emulator: OctopusEmulator,
  o: Options,
  repeat: number,
): Promise<Phase> {
  const wanted = emulator.serviceAccount.username.toLowerCase();
  const creates = await timed(() =>
    pool(o.n, o.parallelism, async (i) => {
      const users = await client
        .get(`${emulator.url}/api/users/all`)
        .json<Array<{ Id: string; Username: string }>>();
      const user = users.find((u) => u.Username.toLowerCase() === wanted);
      if (!user) throw new Error(`/api/users/all has no ${wanted}`);
      return client
        .post(`${emulator.url}/api/users/${user.Id}/apikeys`, {
          json: { Purpose: `${PURPOSE} seed ${repeat}.${i}` },
        })
        .json<CreatedKey>();
    }),
  );
  // Cleanup, timed apart: the seed scripts themselves never revoke.
  const deletes = await timed(() => deleteAll(client, emulator, creates.value, o.parallelism));
  return { createMs: creates.ms, deleteMs: deletes.ms };
}

/** Response bytes of one call of our client's username lookup (all pages it follows). */
async function lookupBytes(emulator: OctopusEmulator): Promise<number> {
  const client = new OctopusClient({
    serverUrl: emulator.url,
    credential: { kind: "apiKey", value: emulator.admin.apiKey },
    timeoutMs: 30_000,
    caCertificate: undefined,
  });
  // Once to load got and open a connection, then the measured call.
  await client.findUserByUsername(emulator.serviceAccount.username);
  await emulator.idle();
  const before = emulator.stats.bytesOut;
  const user = await client.findUserByUsername(emulator.serviceAccount.username);
  if (user?.Id !== emulator.serviceAccount.id) throw new Error("the lookup found the wrong user");
  await emulator.idle();
  return emulator.stats.bytesOut - before;
}

/** Milliseconds from spawning a host to its first Create's completion (Configure, Check, Create). */
async function coldStart(emulator: OctopusEmulator, text: string, label: string): Promise<number> {
  const started = performance.now();
  const engine = await Engine.start({ env: emulatorEnv(emulator), providerText: text });
  try {
    await engine.up("cold", {
      purpose: `${PURPOSE} cold start ${label}`,
      username: emulator.serviceAccount.username,
    });
    const ms = performance.now() - started;
    await engine.destroy("cold");
    return ms;
  } finally {
    await engine.close();
  }
}

/**
 * Module load in a fresh node process, run in the repository root as the host is: `total` is
 * require("pulumi-octopus-apikey") plus the first import("got"); `afterPulumi` is the same with
 * @pulumi/pulumi already loaded, which is what our provider adds inside the host.
 */
async function moduleLoad(): Promise<{
  totalMs: number;
  afterPulumiMs: number;
  packageMs: number;
  gotMs: number;
}> {
  const probe = (preloadPulumi: boolean) => `
    ${preloadPulumi ? 'require("@pulumi/pulumi");' : ""}
    const t0 = performance.now();
    require("pulumi-octopus-apikey");
    const t1 = performance.now();
    import("got").then(() => {
      const t2 = performance.now();
      console.log(JSON.stringify({ packageMs: t1 - t0, gotMs: t2 - t1 }));
    });`;
  const run = (script: string) =>
    new Promise<{ packageMs: number; gotMs: number }>((resolve, reject) => {
      const child = spawn(process.execPath, ["-e", script], { cwd: root });
      let out = "";
      let err = "";
      child.stdout.on("data", (chunk) => (out += chunk));
      child.stderr.on("data", (chunk) => (err += chunk));
      child.on("error", reject);
      child.on("close", (code) =>
        code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`module load probe: ${err}`)),
      );
    });
  const totals: number[] = [];
  const afterPulumi: Array<{ packageMs: number; gotMs: number }> = [];
  for (let i = 0; i < MODULE_LOAD_RUNS; i++) {
    const fresh = await run(probe(false));
    totals.push(fresh.packageMs + fresh.gotMs);
    afterPulumi.push(await run(probe(true)));
  }
  return {
    totalMs: median(totals),
    afterPulumiMs: median(afterPulumi.map((r) => r.packageMs + r.gotMs)),
    packageMs: median(afterPulumi.map((r) => r.packageMs)),
    gotMs: median(afterPulumi.map((r) => r.gotMs)),
  };
}

/** Keys this benchmark made that are still live: reported, then revoked. Should be none. */
function sweep(emulators: OctopusEmulator[]): number {
  let leftover = 0;
  for (const emulator of emulators) {
    for (const key of emulator.liveKeys()) {
      if (!key.Purpose.startsWith(PURPOSE)) continue;
      leftover++;
      emulator.revokeKey(key.Id);
    }
  }
  return leftover;
}

interface Goal {
  name: string;
  measured: string;
  goal: string;
  pass: boolean;
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const { got } = await import("got");
  const emulators: OctopusEmulator[] = [];
  const start = async (users: number, latencyMs: number) => {
    const emulator = await OctopusEmulator.start({ users, latencyMs });
    emulators.push(emulator);
    return emulator;
  };

  try {
    log("capturing the provider texts under Pulumi mocks");
    const texts = await providerTexts(o.latency);

    log(`starting the emulators (${o.users} filler users, ${o.latency} ms latency)`);
    const big = await start(o.users, o.latency);
    // Ten users in all: the three seeded ones and seven fillers. No latency: used for the lookup
    // bytes (latency does not change bytes) and the cold starts.
    const small = await start(7, 0);
    const raw = rawClient(got, big);

    const ours: HostPhase[] = [];
    const floor: HostPhase[] = [];
    const baseline: Phase[] = [];
    const seed: Phase[] = [];
    for (let r = 1; r <= o.repeats; r++) {
      log(`repeat ${r}/${o.repeats}: ours`);
      ours.push(await runHost(big, texts.ours, o, `ours ${r}`));
      log(`repeat ${r}/${o.repeats}: host floor (a provider that only waits ${o.latency} ms)`);
      floor.push(await runHost(big, texts.waiting, o, `floor ${r}`));
      log(`repeat ${r}/${o.repeats}: raw got`);
      baseline.push(await runRaw(raw, big, o, r));
      log(`repeat ${r}/${o.repeats}: seed method`);
      seed.push(await runSeed(raw, big, o, r));
    }

    log("measuring lookup bytes");
    const lookupBytes10k = await lookupBytes(big);
    const lookupBytes10 = await lookupBytes(small);
    await big.idle();
    const before = big.stats.bytesOut;
    await raw.get(`${big.url}/api/users/all`).text();
    await big.idle();
    const seedLookupBytes10k = big.stats.bytesOut - before;

    log(`measuring cold starts (${COLD_START_RUNS} runs each, after a warm-up pair)`);
    const cold = { ours: [] as number[], trivial: [] as number[] };
    for (let i = 0; i <= COLD_START_RUNS; i++) {
      // Alternating, so that drift in machine load hits both alike; run 0 warms caches.
      const trivial = await coldStart(small, texts.trivial, "trivial");
      const oursMs = await coldStart(small, texts.ours, "ours");
      if (i === 0) continue;
      cold.trivial.push(trivial);
      cold.ours.push(oursMs);
    }
    log("measuring module load in fresh processes");
    const load = await moduleLoad();

    const leftoverKeys = sweep(emulators);

    // ---- figures ----------------------------------------------------------------------------
    const m = median;
    const total = (x: Phase) => x.createMs + x.deleteMs;
    const oursCreateMs = m(ours.map((x) => x.createMs));
    const oursDeleteMs = m(ours.map((x) => x.deleteMs));
    const oursMs = m(ours.map(total));
    const oursFirstCreateMs = m(ours.map((x) => x.firstCreateMs));
    const hostFloorCreateMs = m(floor.map((x) => x.createMs));
    const hostFloorDeleteMs = m(floor.map((x) => x.deleteMs));
    const hostFloorMs = m(floor.map(total));
    const rawCreateMs = m(baseline.map((x) => x.createMs));
    const rawDeleteMs = m(baseline.map((x) => x.deleteMs));
    const rawMs = m(baseline.map(total));
    const seedCreateMs = m(seed.map((x) => x.createMs));
    const seedCleanupMs = m(seed.map((x) => x.deleteMs));
    const requestsPerKey = m(ours.map((x) => x.createRequests)) / o.n;
    const overheadVsRaw = oursMs / rawMs;
    const seedVsOurs = seedCreateMs / oursCreateMs;
    const coldOursMs = m(cold.ours);
    const coldTrivialMs = m(cold.trivial);
    const coldStartExtraMs = coldOursMs - coldTrivialMs;
    const providerTextBytes = Buffer.byteLength(texts.ours);
    // Each worker pays one full round trip per request, one request per create and per delete.
    const latencyFloorMs = 2 * Math.ceil(o.n / o.parallelism) * o.latency;

    const goals: Goal[] = [
      {
        name: "requests per key (creates)",
        measured: requestsPerKey.toFixed(3),
        goal: "≤ 1.05",
        pass: requestsPerKey <= 1.05,
      },
      {
        name: "lookup bytes, 10,000 vs 10 users",
        measured: `${(lookupBytes10k / lookupBytes10).toFixed(2)}×`,
        goal: "≤ 2×",
        pass: lookupBytes10k <= 2 * lookupBytes10,
      },
      {
        name: `time vs raw got (${o.latency} ms latency)`,
        measured: `${overheadVsRaw.toFixed(3)}×`,
        goal: o.latency === 20 ? "≤ 1.10×" : "≤ 1.10× (set for 20 ms)",
        pass: overheadVsRaw <= 1.1,
      },
      {
        name: "cold start, extra over trivial provider",
        measured: `${coldStartExtraMs.toFixed(0)} ms`,
        goal: "≤ 150 ms",
        pass: coldStartExtraMs <= 150,
      },
    ];

    const ms = (v: number) => `${v.toFixed(0)} ms`;
    const bytes = (v: number) => (v >= 10_240 ? `${(v / 1024).toFixed(1)} KiB` : `${v} B`);
    const ratio = (v: number) => `${v.toFixed(2)}×`;
    const routes = Object.entries(ours[ours.length - 1].byRoute)
      .map(([route, count]) => `${count}× ${route}`)
      .join(", ");
    const out: string[] = [
      `pulumi-octopus-apikey benchmark — node ${process.version}, N=${o.n}, parallelism ${o.parallelism}, ` +
        `${o.latency} ms latency, ${o.users} filler users, median of ${o.repeats}`,
      "",
      table(
        ["method", "creates", "deletes", "total", "vs raw", "requests/key"],
        [
          [
            "ours: provider host over gRPC",
            ms(oursCreateMs),
            ms(oursDeleteMs),
            ms(oursMs),
            ratio(overheadVsRaw),
            requestsPerKey.toFixed(3),
          ],
          [
            "host floor: provider only waits",
            ms(hostFloorCreateMs),
            ms(hostFloorDeleteMs),
            ms(hostFloorMs),
            ratio(hostFloorMs / rawMs),
            "0",
          ],
          ["raw got, user id known", ms(rawCreateMs), ms(rawDeleteMs), ms(rawMs), "1.00×", "1.000"],
          [
            "seed scripts: /users/all + POST",
            ms(seedCreateMs),
            `(${ms(seedCleanupMs)})`,
            "",
            "",
            "2.000",
          ],
          [
            "latency alone",
            ms(latencyFloorMs / 2),
            ms(latencyFloorMs / 2),
            ms(latencyFloorMs),
            ratio(latencyFloorMs / rawMs),
            "",
          ],
        ],
      ),
      `  ours: first create done after ${ms(oursFirstCreateMs)} (host's first use: package, got, lookup); creates sent ${routes}`,
      `  host floor: the same Check/Create/Delete calls to a provider that waits ${o.latency} ms instead of calling Octopus;` +
        ` ours/floor ${ratio(oursMs / hostFloorMs)} is what our code and its HTTP client add`,
      `  seed: creates only are compared (seed/ours ${ratio(seedVsOurs)}); its DELETEs, in brackets, are cleanup`,
      "",
      table(
        ["measure", "value"],
        [
          ["our lookup, 10,000 users", bytes(lookupBytes10k)],
          ["our lookup, 10 users", bytes(lookupBytes10)],
          ["seed lookup (/api/users/all), 10,000 users", bytes(seedLookupBytes10k)],
          ["cold start to first Create, ours", ms(coldOursMs)],
          ["cold start to first Create, trivial provider", ms(coldTrivialMs)],
          ["module load, fresh process (package + got)", ms(load.totalMs)],
          [
            "  with @pulumi/pulumi already loaded (as in the host)",
            `${ms(load.afterPulumiMs)} (package ${ms(load.packageMs)}, got ${ms(load.gotMs)})`,
          ],
          ["__provider text", `${providerTextBytes} B`],
          ["keys left behind", String(leftoverKeys)],
        ],
      ),
      "",
      table(
        ["goal", "measured", "target", "result"],
        goals.map((g) => [g.name, g.measured, g.goal, g.pass ? "pass" : "MISS"]),
      ),
      "",
    ];
    process.stdout.write(out.join("\n") + "\n");

    const result = {
      requestsPerKey: round(requestsPerKey, 4),
      overheadVsRaw: round(overheadVsRaw, 4),
      lookupBytes10k,
      lookupBytes10,
      seedLookupBytes10k,
      seedVsOurs: round(seedVsOurs, 3),
      seedVsOursBasis: "creates only",
      coldStartExtraMs: round(coldStartExtraMs),
      providerTextBytes,
      node: process.version,
      n: o.n,
      parallelism: o.parallelism,
      latencyMs: o.latency,
      users: o.users,
      repeats: o.repeats,
      oursMs: round(oursMs),
      oursCreateMs: round(oursCreateMs),
      oursDeleteMs: round(oursDeleteMs),
      oursFirstCreateMs: round(oursFirstCreateMs),
      rawMs: round(rawMs),
      rawCreateMs: round(rawCreateMs),
      rawDeleteMs: round(rawDeleteMs),
      hostFloorMs: round(hostFloorMs),
      hostFloorVsRaw: round(hostFloorMs / rawMs, 4),
      oursVsHostFloor: round(oursMs / hostFloorMs, 4),
      seedCreateMs: round(seedCreateMs),
      seedCleanupMs: round(seedCleanupMs),
      latencyFloorMs,
      coldStartOursMs: round(coldOursMs),
      coldStartTrivialMs: round(coldTrivialMs),
      moduleLoadMs: round(load.totalMs),
      moduleLoadAfterPulumiMs: round(load.afterPulumiMs),
      moduleLoadGotMs: round(load.gotMs),
      leftoverKeys,
      goalsMet: goals.every((g) => g.pass),
    };
    process.stdout.write(JSON.stringify(result) + "\n");
    if (o.check && (!result.goalsMet || leftoverKeys > 0)) process.exitCode = 1;
  } finally {
    // After a failure: revoke whatever the benchmark made before stopping the emulators.
    const left = sweep(emulators);
    if (left > 0) log(`revoked ${left} key(s) left behind by a failed run`);
    await Promise.all(emulators.map((e) => e.close()));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
