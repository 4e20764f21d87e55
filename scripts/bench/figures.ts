/**
 * The figures the bench reports, computed from its runs. Every comparison of two variants is
 * paired: computed within each repeat (or each group of fresh hosts), then the median taken, so
 * load from other processes hits both sides alike; `spread` keeps the lowest and highest
 * per-repeat value of the figures the goals use.
 */
import type { FirstKeyRun, HostRun } from "./host-run";
import {
  cpu,
  FirstKeyPair,
  FirstKeyVariant,
  HostVariant,
  Measurements,
  memoryPoints,
  paired,
  range,
  ratio,
  Repeat,
  slope,
} from "./measurements";
import { median, round } from "./util";

export type Figures = ReturnType<typeof figures>;

export function figures(m: Measurements) {
  const { o } = m;
  const runs = (v: HostVariant) => m.main.flatMap((r) => (r.hosts[v] ? [r.hosts[v]] : []));
  const med = (v: HostVariant, f: (x: HostRun) => number) => median(runs(v).map(f));
  /** Within one repeat: wall time of `a` ÷ that of `b`. */
  const timeOver = (a: HostVariant, b: HostVariant) => (r: Repeat) => ratio(r.hosts[a], r.hosts[b]);
  /** Within one repeat: host CPU per key of variant `a` beyond variant `b`. */
  const cpuBeyond = (a: HostVariant, b: HostVariant) => (r: Repeat) => {
    const [x, y] = [r.hosts[a], r.hosts[b]];
    return x && y ? (cpu(x) - cpu(y)) / o.n : undefined;
  };
  /** Within one group of fresh hosts: `a`'s first key − `b`'s, counted as `field` says. */
  const firstKeyOver =
    (a: FirstKeyVariant, b: FirstKeyVariant, field: keyof FirstKeyRun) => (p: FirstKeyPair) =>
      p[a] && p[b] ? p[a][field] - p[b][field] : undefined;
  const firstKeyMedian = (v: FirstKeyVariant, field: keyof FirstKeyRun) =>
    median(m.firstKey.map((p) => p[v]?.[field] ?? NaN));

  // The goals' figures. The first key comes from the fresh hosts and counts from the host ready:
  // until the first Check both dynamic hosts run the same code (spawn, loading @pulumi/pulumi,
  // Configure), which only adds start-up noise (the count from the spawn is shown apart).
  const vsGotFloor = timeOver("ours", "gotFloor");
  const cpuOverFloor = cpuBeyond("ours", "gotFloor");
  const firstKeyOverFloor = firstKeyOver("ours", "gotFloor", "firstKeyAfterReadyMs");
  const pluginVsDynamic = timeOver("plugin", "ours");
  const pluginCpuOverDynamic = cpuBeyond("plugin", "ours");
  const spread = {
    overheadVsGotFloor: range(m.main, vsGotFloor),
    cpuPerKeyOverFloorMs: range(m.main, cpuOverFloor),
    firstKeyOverFloorMs: range(m.firstKey, firstKeyOverFloor),
    pluginVsDynamic: range(m.main, pluginVsDynamic),
    pluginCpuPerKeyOverDynamicMs: range(m.main, pluginCpuOverDynamic),
  };

  // Heap after GC in one host. Cold: memN keys against N, JIT warm-up included (the floors show
  // how much). Warm, the goal's figure: the slope from memN keys on, on a host that has done memN.
  const sample = (v: HostVariant, keys: number) =>
    m.memory[v]?.memory?.find((s) => s.keys === keys);
  const heapAt = (v: HostVariant, keys: number) => sample(v, keys)?.heapUsed ?? NaN;
  const points = memoryPoints(o);
  const [k0, k1] = points;
  const retainedCold = (v: HostVariant) => (heapAt(v, k1) - heapAt(v, k0)) / (k1 - k0);
  const retained = (v: HostVariant) =>
    slope(points.slice(1).map((k): [number, number] => [k, heapAt(v, k)]));
  const peakMb = (v: HostVariant) => (sample(v, k1)?.maxRssKb ?? NaN) / 1024;

  const sweepRatio = (against: "raw" | "gotFloor") =>
    Object.fromEntries(
      [...m.sweep].map(([latency, repeats]) => [
        String(latency),
        round(
          paired(repeats, (r) => ratio(r.hosts.ours, against === "raw" ? r.raw : r.hosts.gotFloor)),
          3,
        ),
      ]),
    );

  const vsRaw = (v: HostVariant) => paired(m.main, (r) => ratio(r.hosts[v], r.raw));
  const oursCreateMs = med("ours", (x) => x.createMs);
  const seedCreateMs = median(m.seed.map((x) => x.createMs));

  return {
    runs,
    med,
    spread,
    vsRaw,
    vsGotFloor: (v: HostVariant) => paired(m.main, timeOver(v, "gotFloor")),
    cpuPerKey: (v: HostVariant) => med(v, cpu) / o.n,
    enginePerKey: (v: HostVariant) => med(v, (x) => x.engineCpuMs) / o.n,
    firstKeyMedian,

    overheadVsGotFloor: paired(m.main, vsGotFloor),
    overheadVsRaw: vsRaw("ours"),
    cpuPerKeyOverFloorMs: paired(m.main, cpuOverFloor),
    firstKeyOverFloorMs: paired(m.firstKey, firstKeyOverFloor),
    firstKeyFromSpawnOverFloorMs: paired(
      m.firstKey,
      firstKeyOver("ours", "gotFloor", "firstKeyMs"),
    ),
    firstKeyOverFloorMsMainRuns: paired(m.main, (r) =>
      r.hosts.ours && r.hosts.gotFloor
        ? r.hosts.ours.firstKeyMs - r.hosts.gotFloor.firstKeyMs
        : undefined,
    ),
    requestsPerKey: med("ours", (x) => x.createRequests) / o.n,

    // Ours against the got floor that returns ours' outputs: what our code costs beyond its
    // state; that floor against the plain got floor: what carrying the state costs.
    overheadVsGotStateFloor: paired(m.main, timeOver("ours", "gotStateFloor")),
    cpuPerKeyOverStateFloorMs: paired(m.main, cpuBeyond("ours", "gotStateFloor")),
    stateFloorVsGotFloor: paired(m.main, timeOver("gotStateFloor", "gotFloor")),
    stateCpuPerKeyMs: paired(m.main, cpuBeyond("gotStateFloor", "gotFloor")),

    // The resource plugin against the dynamic host running ours (the same work through the other
    // front door), and against the got floor.
    pluginVsDynamic: paired(m.main, pluginVsDynamic),
    pluginVsGotFloor: paired(m.main, timeOver("plugin", "gotFloor")),
    pluginCpuPerKeyOverDynamicMs: paired(m.main, pluginCpuOverDynamic),
    pluginCpuPerKeyOverFloorMs: paired(m.main, cpuBeyond("plugin", "gotFloor")),
    pluginFirstKeyOverDynamicMs: paired(
      m.firstKey,
      firstKeyOver("plugin", "ours", "firstKeyAfterReadyMs"),
    ),
    pluginFirstKeyFromSpawnOverDynamicMs: paired(
      m.firstKey,
      firstKeyOver("plugin", "ours", "firstKeyMs"),
    ),
    pluginFirstKeyOverFloorMs: paired(
      m.firstKey,
      firstKeyOver("plugin", "gotFloor", "firstKeyAfterReadyMs"),
    ),

    memory: { points, sample, heapAt, retained, retainedCold, peakMb },
    overheadVsRawAt: sweepRatio("raw"),
    overheadVsGotFloorAt: sweepRatio("gotFloor"),
    seedCreateMs,
    seedCleanupMs: median(m.seed.map((s) => s.deleteMs)),
    // Per key: the seed method's time grows linearly with its keys (each downloads every user).
    seedVsOurs: seedCreateMs / o.seedN / (oursCreateMs / o.n),
  };
}
