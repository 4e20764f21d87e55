import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import type { OctopusEmulator } from "../../emulator/server";
import type { Front } from "./fronts";
import { pool, timed } from "./util";

/** Purposes of every key the benchmark makes start with this, so leftovers can be found. */
export const PURPOSE = "bench";

/**
 * What one host run measured. Times in ms; CPU is the host process's user + system time (the
 * dynamic provider host's, or the resource plugin's).
 */
export interface HostRun {
  /** From spawning the host to the first create's completion (Configure, Check, Create). */
  firstKeyMs: number;
  /** From the start of the creates (host ready and configured) to the first one's completion. */
  firstKeyAfterReadyMs: number;
  createMs: number;
  deleteMs: number;
  /** Host CPU during the N creates and during the N deletes. */
  cpuCreateMs: number;
  cpuDeleteMs: number;
  /** Host CPU from spawn to the end of the deletes (loading included). */
  cpuTotalMs: number;
  /**
   * This process's CPU during the creates and deletes: the engine's stand-in (JavaScript gRPC and
   * protobuf, where the real engine is Go) and the emulator, on the same 2 cores as the host.
   */
  engineCpuMs: number;
  /** Requests the emulator received during the creates, and by route. */
  createRequests: number;
  byRoute: Record<string, number>;
  /** With `memoryAt`: the host after two full GCs, when that many keys were done, in order. */
  memory?: Array<{ keys: number } & MemorySample>;
}

export interface MemorySample {
  heapUsed: number;
  /** Used bytes per V8 heap space (old_space, code_space, …). */
  spaces: Record<string, number>;
  external: number;
  rss: number;
  /** Peak RSS of the host so far. */
  maxRssKb: number;
}

export interface HostRunOptions {
  n: number;
  parallelism: number;
  /** How long the sleep floor waits per create and per delete. */
  sleepMs: number;
  /**
   * Key counts (cumulative, ascending, each ≥ N) at which the probe reads the heap after GC and
   * the peak RSS; the host goes on creating and deleting keys, untimed, to reach each.
   */
  memoryAt?: number[];
  /** Write CPU profiles of the host during the creates and during the deletes to these files. */
  profileFiles?: { creates: string; deletes: string };
}

/** What one first-key run measured, in ms. */
export interface FirstKeyRun {
  /** From spawning the host to the first create's completion. */
  firstKeyMs: number;
  /** From the host ready and configured to the first create's completion. */
  firstKeyAfterReadyMs: number;
}

/** The inputs of the benchmark's `i`-th key in the run called `label`. */
function keyProgram(emulator: OctopusEmulator, label: string, i: number) {
  return { purpose: `${PURPOSE} ${label}.${i}`, username: emulator.serviceAccount.username };
}

let ticksPerSecond: number | undefined;

/** CPU time (user + system) a process has used so far, from /proc; NaN where that is missing. */
export function processCpuMs(pid: number): number {
  try {
    ticksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" })) || 100;
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return NaN;
  }
}

/**
 * N creates then N deletes through a new, configured host (a dynamic provider host or the plugin),
 * as one `pulumi up` and one `pulumi destroy` would drive it (Check then Create per resource;
 * Delete per resource).
 */
export async function runHost(
  emulator: OctopusEmulator,
  front: Front,
  o: HostRunOptions,
  label: string,
): Promise<HostRun> {
  const spawned = performance.now();
  const probing = Boolean(o.memoryAt || o.profileFiles);
  const driver = await front(emulator, { sleepMs: o.sleepMs, probe: probing });
  try {
    const pid = driver.pid;
    const program = (i: number) => keyProgram(emulator, label, i);
    const createAll = (from: number, count: number) =>
      pool(count, o.parallelism, (i) => driver.up(`key-${from + i}`, program(from + i)));
    const deleteAll = (from: number, count: number) =>
      pool(count, o.parallelism, (i) => driver.destroy(`key-${from + i}`));

    const profiling = async (action: "profileStart" | "profileStop", file?: string) => {
      if (o.profileFiles) {
        await driver.probe({ action, intervalUs: 200, ...(file ? { file } : {}) });
      }
    };
    await profiling("profileStart");
    await emulator.idle();
    emulator.resetStats();
    const engine0 = process.cpuUsage();
    const cpu0 = processCpuMs(pid);
    const started = performance.now();
    let firstKeyAt = 0;
    const creates = await timed(() =>
      pool(o.n, o.parallelism, async (i) => {
        await driver.up(`key-${i}`, program(i));
        firstKeyAt ||= performance.now();
      }),
    );
    const cpu1 = processCpuMs(pid);
    await profiling("profileStop", o.profileFiles?.creates);
    const createRequests = emulator.stats.requests;
    const byRoute = { ...emulator.stats.byRoute };
    await profiling("profileStart");
    const cpu2 = processCpuMs(pid);
    const deletes = await timed(() => deleteAll(0, o.n));
    const cpu3 = processCpuMs(pid);
    const engineCpu = process.cpuUsage(engine0);
    await profiling("profileStop", o.profileFiles?.deletes);

    const run: HostRun = {
      firstKeyMs: firstKeyAt - spawned,
      firstKeyAfterReadyMs: firstKeyAt - started,
      createMs: creates.ms,
      deleteMs: deletes.ms,
      cpuCreateMs: cpu1 - cpu0,
      cpuDeleteMs: cpu3 - cpu2,
      cpuTotalMs: cpu3,
      engineCpuMs: (engineCpu.user + engineCpu.system) / 1000,
      createRequests,
      byRoute,
    };
    if (o.memoryAt) {
      run.memory = [];
      let done = o.n;
      for (const keys of o.memoryAt) {
        await createAll(done, keys - done);
        await deleteAll(done, keys - done);
        done = keys;
        const sample = (await driver.probe({ action: "memory" })) as unknown as MemorySample;
        run.memory.push({ keys, ...sample });
      }
    }
    return run;
  } finally {
    await driver.close();
  }
}

/**
 * The start of a `pulumi up` in a fresh host: `parallelism` keys asked for at once, and when the
 * first is done. Each host gives one sample, so these runs are short (the keys are deleted, the
 * host closed) and many.
 */
export async function runFirstKey(
  emulator: OctopusEmulator,
  front: Front,
  parallelism: number,
  label: string,
): Promise<FirstKeyRun> {
  await emulator.idle();
  const spawned = performance.now();
  const driver = await front(emulator, {});
  try {
    const started = performance.now();
    let firstKeyAt = 0;
    await pool(parallelism, parallelism, async (i) => {
      await driver.up(`key-${i}`, keyProgram(emulator, label, i));
      firstKeyAt ||= performance.now();
    });
    await pool(parallelism, parallelism, (i) => driver.destroy(`key-${i}`));
    return { firstKeyMs: firstKeyAt - spawned, firstKeyAfterReadyMs: firstKeyAt - started };
  } finally {
    await driver.close();
  }
}
