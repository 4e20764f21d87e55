/** Turns the runs into the goals, the human report and the last-line JSON. */
import { figures } from "./figures";
import { FLOORS, HOST_VARIANTS, Measurements } from "./measurements";
import { Goal, reportText } from "./report-text";
import { round } from "./util";

export function report(m: Measurements): { text: string; json: Record<string, unknown> } {
  const { o } = m;
  const f = figures(m);
  const { retained, retainedCold, peakMb } = f.memory;
  const fixed = (digits: number, unit: string) => (v: number) => `${v.toFixed(digits)}${unit}`;
  const goals: Goal[] = [
    goal("overheadVsGotFloor", f.overheadVsGotFloor, fixed(3, "×"), 1.05, "≤ 1.05×", f.spread),
    goal(
      "cpuPerKeyOverFloorMs",
      f.cpuPerKeyOverFloorMs,
      fixed(2, " ms"),
      0.5,
      "≤ 0.5 ms",
      f.spread,
    ),
    goal("firstKeyOverFloorMs", f.firstKeyOverFloorMs, fixed(0, " ms"), 50, "≤ 50 ms", f.spread),
    goal("retainedBytesPerKey", retained("ours"), fixed(0, " B"), 256, "≤ 256 B"),
    goal("requestsPerKey", f.requestsPerKey, fixed(3, ""), 1.05, "≤ 1.05"),
    goal(
      "lookupBytes10k / lookupBytes10",
      m.lookupBytes10k / m.lookupBytes10,
      fixed(2, "×"),
      2,
      "≤ 2×",
    ),
    goal("providerTextBytes", m.providerTextBytes.ours, fixed(0, " B"), 2048, "≤ 2,048 B"),
    // The plugin costs no more per key than the dynamic host doing the same work.
    goal("pluginVsDynamic", f.pluginVsDynamic, fixed(3, "×"), 1, "≤ 1.00×", f.spread),
    goal(
      "pluginCpuPerKeyOverDynamicMs",
      f.pluginCpuPerKeyOverDynamicMs,
      fixed(2, " ms"),
      0,
      "≤ 0 ms",
      f.spread,
    ),
  ];
  const perVariant = (figure: (v: (typeof HOST_VARIANTS)[number]) => number, digits: number) =>
    Object.fromEntries(HOST_VARIANTS.map((v) => [v, round(figure(v), digits)]));

  const json = {
    overheadVsGotFloor: round(f.overheadVsGotFloor, 4),
    cpuPerKeyOverFloorMs: round(f.cpuPerKeyOverFloorMs, 3),
    firstKeyOverFloorMs: round(f.firstKeyOverFloorMs),
    retainedBytesPerKey: Math.round(retained("ours")),
    requestsPerKey: round(f.requestsPerKey, 4),
    lookupBytes10k: m.lookupBytes10k,
    lookupBytes10: m.lookupBytes10,
    providerTextBytes: m.providerTextBytes.ours,
    pluginVsDynamic: round(f.pluginVsDynamic, 4),
    pluginCpuPerKeyOverDynamicMs: round(f.pluginCpuPerKeyOverDynamicMs, 3),
    pluginCpuPerKeyMs: round(f.cpuPerKey("plugin"), 3),
    pluginVsGotFloor: round(f.pluginVsGotFloor, 4),
    pluginCpuPerKeyOverFloorMs: round(f.pluginCpuPerKeyOverFloorMs, 3),
    pluginFirstKeyMs: round(f.firstKeyMedian("plugin", "firstKeyAfterReadyMs")),
    pluginFirstKeyOverDynamicMs: round(f.pluginFirstKeyOverDynamicMs),
    pluginFirstKeyFromSpawnOverDynamicMs: round(f.pluginFirstKeyFromSpawnOverDynamicMs),
    pluginFirstKeyOverFloorMs: round(f.pluginFirstKeyOverFloorMs),
    pluginRetainedBytesPerKey: Math.round(retained("plugin")),
    pluginRetainedBytesPerKeyCold: Math.round(retainedCold("plugin")),
    pluginPeakRssMb1000: round(peakMb("plugin")),
    overheadVsRaw: round(f.overheadVsRaw, 4),
    overheadVsRawAt: f.overheadVsRawAt,
    overheadVsGotFloorAt: f.overheadVsGotFloorAt,
    hostPeakRssMb1000: round(peakMb("ours")),
    hostCpuPerKeyMs: perVariant(f.cpuPerKey, 3),
    engineCpuPerKeyMs: perVariant(f.enginePerKey, 3),
    floorsVsRaw: Object.fromEntries(FLOORS.map((v) => [v, round(f.vsRaw(v), 4)])),
    firstKeyFromSpawnOverFloorMs: round(f.firstKeyFromSpawnOverFloorMs),
    firstKeyOverFloorMsMainRuns: round(f.firstKeyOverFloorMsMainRuns),
    overheadVsGotStateFloor: round(f.overheadVsGotStateFloor, 4),
    cpuPerKeyOverStateFloorMs: round(f.cpuPerKeyOverStateFloorMs, 3),
    stateFloorVsGotFloor: round(f.stateFloorVsGotFloor, 4),
    stateCpuPerKeyMs: round(f.stateCpuPerKeyMs, 3),
    spread: Object.fromEntries(
      Object.entries(f.spread).map(([field, [lo, hi]]) => [field, [round(lo, 3), round(hi, 3)]]),
    ),
    firstKeyRepeats: o.firstKeyRepeats,
    floorRetainedBytesPerKey: Math.round(retained("gotFloor")),
    retainedBytesPerKeyCold: Math.round(retainedCold("ours")),
    floorRetainedBytesPerKeyCold: Math.round(retainedCold("gotFloor")),
    retainedBytesPerKeyColdOverFloor: Math.round(retainedCold("ours") - retainedCold("gotFloor")),
    floorPeakRssMb1000: round(peakMb("gotFloor")),
    seedLookupBytes10k: m.seedLookupBytes10k,
    seedVsOurs: round(f.seedVsOurs, 3),
    seedVsOursBasis: `creates only, per key (${o.seedN} seed creates vs ${o.n} of ours)`,
    seedN: o.seedN,
    seedCreateMs: round(f.seedCreateMs),
    seedCleanupMs: round(f.seedCleanupMs),
    node: process.version,
    n: o.n,
    parallelism: o.parallelism,
    latencyMs: o.latency,
    users: o.users,
    repeats: o.repeats,
    memN: o.memN,
    leftoverKeys: m.leftoverKeys,
    goalsMet: goals.every((g) => g.pass),
  };
  return { text: reportText(m, f, goals), json };
}

/** A goal; `spread` holds the per-repeat ranges of the paired figures, by field. */
function goal(
  field: string,
  measured: number,
  show: (v: number) => string,
  limit: number,
  text: string,
  spread: Record<string, [number, number]> = {},
): Goal {
  const [lo, hi] = spread[field] ?? [NaN, NaN];
  const range = Number.isNaN(lo) ? "" : `${show(lo)} to ${show(hi)}`;
  // NaN (a figure that could not be measured) never passes.
  return { field, measured, shown: show(measured), range, goal: text, pass: measured <= limit };
}
