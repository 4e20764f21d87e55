/** Turns the runs into figures, the goals table, the human report and the last-line JSON. */
import type { Options } from "./args";
import type { Phase } from "./direct";
import type { FirstKeyRun, HostRun } from "./host-run";
import { median, round, table } from "./util";

export type HostVariant = "ours" | "sleepFloor" | "gotFloor" | "gotStateFloor" | "httpFloor";
export const HOST_VARIANTS: HostVariant[] = [
  "ours",
  "sleepFloor",
  "gotFloor",
  "gotStateFloor",
  "httpFloor",
];

/** One repeat at one latency: every host variant run and raw, run back to back. */
export interface Repeat {
  hosts: Partial<Record<HostVariant, HostRun>>;
  raw: Phase;
}

/** One pair of first-key runs: fresh hosts of ours and of the got floor, back to back. */
export type FirstKeyPair = Partial<Record<"ours" | "gotFloor", FirstKeyRun>>;

export interface Measurements {
  o: Options;
  /** Repeats at the main latency. */
  main: Repeat[];
  /** Pairs of fresh hosts that made only the first keys. */
  firstKey: FirstKeyPair[];
  /** Repeats per sweep latency (ours, got floor and raw only), the main one included. */
  sweep: Map<number, Repeat[]>;
  /** Memory runs: one host per variant, probed at {@link memoryPoints}. */
  memory: Partial<Record<HostVariant, HostRun>>;
  seed: Phase[];
  lookupBytes10k: number;
  lookupBytes10: number;
  seedLookupBytes10k: number;
  providerTextBytes: Record<HostVariant, number>;
  leftoverKeys: number;
}

interface Goal {
  field: string;
  measured: number;
  shown: string;
  /** Lowest to highest per-repeat value, for a paired figure (its median is `measured`). */
  range: string;
  goal: string;
  pass: boolean;
}

/**
 * Key counts at which a memory run reads the heap: N, memN, then four more steps of (memN − N)/2.
 * Warm retention is the least-squares slope over memN and the steps after it: the heap after GC
 * moves by a few hundred kilobytes from one reading to the next (bytecode flushed or compiled
 * again, for one), which two readings alone would take for a per-key cost.
 */
export function memoryPoints(o: Options): number[] {
  const step = Math.max(1, Math.round((o.memN - o.n) / 2));
  return [o.n, o.memN, ...[1, 2, 3, 4].map((i) => o.memN + i * step)];
}

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxy / sxx;
}

const total = (x: Phase) => x.createMs + x.deleteMs;
const cpu = (x: HostRun) => x.cpuCreateMs + x.cpuDeleteMs;

/** Median over repeats of a figure computed within each repeat (paired), NaN when absent. */
function paired<R>(repeats: R[], figure: (r: R) => number | undefined): number {
  return median(repeats.map((r) => figure(r) ?? NaN));
}

/** The lowest and highest per-repeat value of a paired figure: how much one repeat can vary. */
function range<R>(repeats: R[], figure: (r: R) => number | undefined): [number, number] {
  const values = repeats.map((r) => figure(r) ?? NaN).filter((v) => !Number.isNaN(v));
  return values.length ? [Math.min(...values), Math.max(...values)] : [NaN, NaN];
}

function ratio(a: Phase | undefined, b: Phase | undefined): number | undefined {
  return a && b ? total(a) / total(b) : undefined;
}

export function report(m: Measurements): { text: string; json: Record<string, unknown> } {
  const { o } = m;
  const runs = (v: HostVariant) => m.main.flatMap((r) => (r.hosts[v] ? [r.hosts[v]] : []));
  const med = (v: HostVariant, f: (x: HostRun) => number) => median(runs(v).map(f));

  const vsGotFloor = (r: Repeat) => ratio(r.hosts.ours, r.hosts.gotFloor);
  const overheadVsGotFloor = paired(m.main, vsGotFloor);
  const overheadVsRaw = paired(m.main, (r) => ratio(r.hosts.ours, r.raw));
  const vsRaw = (v: HostVariant) => paired(m.main, (r) => ratio(r.hosts[v], r.raw));
  const cpuPerKey = (v: HostVariant) => med(v, cpu) / o.n;
  const enginePerKey = (v: HostVariant) => med(v, (x) => x.engineCpuMs) / o.n;
  /** Within one repeat: host CPU per key of variant `a` beyond variant `b`. */
  const cpuBeyond = (a: HostVariant, b: HostVariant) => (r: Repeat) => {
    const [x, y] = [r.hosts[a], r.hosts[b]];
    return x && y ? (cpu(x) - cpu(y)) / o.n : undefined;
  };
  const cpuOverFloor = cpuBeyond("ours", "gotFloor");
  const cpuPerKeyOverFloorMs = paired(m.main, cpuOverFloor);
  // From the first-key pairs; the main runs' first keys are reported too, for comparison. The
  // goal's figure counts from the host ready: until the first Check both hosts run the same code
  // (spawn, loading @pulumi/pulumi, Configure), which only adds start-up noise (shown apart).
  const firstKeyOver = (field: keyof FirstKeyRun) => (p: FirstKeyPair) =>
    p.ours && p.gotFloor ? p.ours[field] - p.gotFloor[field] : undefined;
  const firstKeyOverFloorMs = paired(m.firstKey, firstKeyOver("firstKeyAfterReadyMs"));
  const firstKeyFromSpawnOverFloorMs = paired(m.firstKey, firstKeyOver("firstKeyMs"));
  const firstKeyOverFloorMsMainRuns = paired(m.main, (r) =>
    r.hosts.ours && r.hosts.gotFloor
      ? r.hosts.ours.firstKeyMs - r.hosts.gotFloor.firstKeyMs
      : undefined,
  );
  // Ours against the got floor that returns ours' outputs: what our code costs beyond its state;
  // that floor against the plain got floor: what carrying the state costs.
  const stateFloorRatio = paired(m.main, (r) => ratio(r.hosts.ours, r.hosts.gotStateFloor));
  const stateCostRatio = paired(m.main, (r) => ratio(r.hosts.gotStateFloor, r.hosts.gotFloor));
  const stateCpuPerKeyMs = paired(m.main, cpuBeyond("gotStateFloor", "gotFloor"));
  const cpuPerKeyOverStateFloorMs = paired(m.main, cpuBeyond("ours", "gotStateFloor"));
  const firstKeyMedian = (v: keyof FirstKeyPair, field: keyof FirstKeyRun) =>
    median(m.firstKey.map((p) => p[v]?.[field] ?? NaN));
  const spread = {
    overheadVsGotFloor: range(m.main, vsGotFloor),
    cpuPerKeyOverFloorMs: range(m.main, cpuOverFloor),
    firstKeyOverFloorMs: range(m.firstKey, firstKeyOver("firstKeyAfterReadyMs")),
  };
  const requestsPerKey = med("ours", (x) => x.createRequests) / o.n;

  // Heap after GC in one host. Cold: memN keys against N, JIT warm-up included (the floors show
  // how much). Warm, the goal's figure: the slope from memN keys on, on a host that has done memN.
  const sample = (v: HostVariant, keys: number) =>
    m.memory[v]?.memory?.find((s) => s.keys === keys);
  const heapAt = (v: HostVariant, keys: number) => sample(v, keys)?.heapUsed ?? NaN;
  const points = memoryPoints(o);
  const [k0, k1] = points;
  const kLast = points[points.length - 1];
  const retainedCold = (v: HostVariant) => (heapAt(v, k1) - heapAt(v, k0)) / (k1 - k0);
  const retained = (v: HostVariant) =>
    slope(points.slice(1).map((k): [number, number] => [k, heapAt(v, k)]));
  const peakMb = (v: HostVariant) => (sample(v, k1)?.maxRssKb ?? NaN) / 1024;
  const retainedBytesPerKey = retained("ours");
  const hostPeakRssMb1000 = peakMb("ours");
  const memVariants = HOST_VARIANTS.filter((v) => m.memory[v]);

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
  const overheadVsRawAt = sweepRatio("raw");
  const overheadVsGotFloorAt = sweepRatio("gotFloor");

  const oursCreateMs = med("ours", (x) => x.createMs);
  const seedCreateMs = median(m.seed.map((x) => x.createMs));
  // Per key: the seed method's time grows linearly with its keys (each one downloads every user).
  const seedVsOurs = seedCreateMs / o.seedN / (oursCreateMs / o.n);

  const fixed = (digits: number, unit: string) => (v: number) => `${v.toFixed(digits)}${unit}`;
  const goals: Goal[] = [
    goal("overheadVsGotFloor", overheadVsGotFloor, fixed(3, "×"), 1.05, "≤ 1.05×", spread),
    goal("cpuPerKeyOverFloorMs", cpuPerKeyOverFloorMs, fixed(2, " ms"), 0.5, "≤ 0.5 ms", spread),
    goal("firstKeyOverFloorMs", firstKeyOverFloorMs, fixed(0, " ms"), 50, "≤ 50 ms", spread),
    goal("retainedBytesPerKey", retainedBytesPerKey, fixed(0, " B"), 256, "≤ 256 B"),
    goal("requestsPerKey", requestsPerKey, fixed(3, ""), 1.05, "≤ 1.05"),
    goal(
      "lookupBytes10k / lookupBytes10",
      m.lookupBytes10k / m.lookupBytes10,
      fixed(2, "×"),
      2,
      "≤ 2×",
    ),
    goal("providerTextBytes", m.providerTextBytes.ours, fixed(0, " B"), 2048, "≤ 2,048 B"),
  ];

  const ms = (v: number) => (Number.isNaN(v) ? "n/a" : `${v.toFixed(0)} ms`);
  const x = (v: number) => (Number.isNaN(v) ? "n/a" : `${v.toFixed(2)}×`);
  const kib = (v: number) => (v >= 10_240 ? `${(v / 1024).toFixed(1)} KiB` : `${v} B`);
  const label: Record<HostVariant, string> = {
    ours: "ours: OctopusApiKey through the host",
    sleepFloor: "host floor: provider only sleeps",
    gotFloor: "got floor: minimal provider, got",
    gotStateFloor: "got floor with ours' outputs",
    httpFloor: "node:http floor: minimal provider",
  };
  const hostRow = (v: HostVariant) => [
    label[v],
    ms(med(v, (r) => r.createMs)),
    ms(med(v, (r) => r.deleteMs)),
    ms(med(v, total)),
    x(vsRaw(v)),
    x(paired(m.main, (r) => ratio(r.hosts[v], r.hosts.gotFloor))),
    `${cpuPerKey(v).toFixed(2)} ms`,
    `${enginePerKey(v).toFixed(2)} ms`,
    ms(med(v, (r) => r.cpuTotalMs)),
    ms(med(v, (r) => r.firstKeyMs)),
    ms(med(v, (r) => r.firstKeyAfterReadyMs)),
  ];
  const raw = m.main.map((r) => r.raw);
  const routes = Object.entries(runs("ours").at(-1)?.byRoute ?? {})
    .map(([route, count]) => `${count}× ${route}`)
    .join(", ");
  const latencies = [...m.sweep.keys()];

  const text = [
    `pulumi-octopus-apikey benchmark — node ${process.version}, N=${o.n}, parallelism ${o.parallelism}, ` +
      `${o.latency} ms latency, ${o.users} filler users; medians of ${o.repeats} paired repeats`,
    "",
    table(
      [
        "variant",
        "creates",
        "deletes",
        "total",
        "vs raw",
        "vs got floor",
        "host CPU/key",
        "engine CPU/key",
        "host CPU all",
        "1st key (spawn)",
        "1st key (ready)",
      ],
      [
        ...HOST_VARIANTS.map(hostRow),
        [
          "raw: got, no host, user id known",
          ms(median(raw.map((r) => r.createMs))),
          ms(median(raw.map((r) => r.deleteMs))),
          ms(median(raw.map(total))),
          "1.00×",
          "",
          "",
          "",
          "",
          "",
          "",
        ],
      ],
    ),
    "  Ratios are medians of per-repeat ratios (each repeat runs every variant back to back, ours",
    "  next to both got floors, order reversed every other repeat). Host CPU/key: the host process's",
    "  CPU (/proc) during the creates and deletes ÷ N; engine CPU/key: this process's (the engine's",
    "  stand-in, in JavaScript where the real engine is Go, and the emulator), the same way; host",
    "  CPU all: from spawn to the last delete.",
    "  1st key: first create completed, counted from the host's spawn, or from the start of the",
    "  creates (host ready); the goal's figure comes from the first-key pairs below.",
    `  ours sent during the creates: ${routes}`,
    "",
    `ours' state, apart from our code: the got floor with ours' outputs is ${x(stateCostRatio)} the got floor ` +
      `(${stateCpuPerKeyMs.toFixed(2)} ms host CPU per key more); ours is ${x(stateFloorRatio)} it ` +
      `(${cpuPerKeyOverStateFloorMs.toFixed(2)} ms more)`,
    "",
    `first key, ${m.firstKey.length} pairs of fresh hosts making their first ${o.parallelism} keys at once: ` +
      `ours ${ms(firstKeyMedian("ours", "firstKeyAfterReadyMs"))}, got floor ${ms(firstKeyMedian("gotFloor", "firstKeyAfterReadyMs"))} ` +
      `from the host ready, ours − floor ${ms(firstKeyOverFloorMs)}; from the host's spawn ` +
      `${ms(firstKeyMedian("ours", "firstKeyMs"))} and ${ms(firstKeyMedian("gotFloor", "firstKeyMs"))}, ours − floor ${ms(firstKeyFromSpawnOverFloorMs)}`,
    "",
    table(
      ["latency", ...latencies.map((l) => `${l} ms`)],
      [
        ["ours vs raw", ...latencies.map((l) => x(overheadVsRawAt[String(l)]))],
        ["ours vs got floor", ...latencies.map((l) => x(overheadVsGotFloorAt[String(l)]))],
      ],
    ),
    `  (median of ${o.sweepRepeats} paired repeats per latency; ${o.latency} ms: the ${o.repeats} above)`,
    "",
    table(
      ["memory (one host, after 2 full GCs)", ...memVariants],
      [
        ...points.map((k) => [
          `heap used after ${k} keys`,
          ...memVariants.map((v) => mb(heapAt(v, k))),
        ]),
        [
          `retained per key, ${k1} vs ${k0} (cold)`,
          ...memVariants.map((v) => bytes(retainedCold(v))),
        ],
        [
          `retained per key, ${k1} to ${kLast} (warm, slope)`,
          ...memVariants.map((v) => bytes(retained(v))),
        ],
        [`peak RSS after ${k1} keys`, ...memVariants.map((v) => `${peakMb(v).toFixed(0)} MB`)],
      ],
    ),
    "  cold includes the JIT's warm-up (compare the floors, which keep nothing per key); warm is",
    "  what a host keeps per key once warm, the slope over the readings from the second on: the",
    "  goal's figure.",
    "",
    table(
      ["measure", "value"],
      [
        ["our lookup, 10,000 users", kib(m.lookupBytes10k)],
        ["our lookup, 10 users", kib(m.lookupBytes10)],
        ["seed lookup (/api/users/all), 10,000 users", kib(m.seedLookupBytes10k)],
        [
          `seed method: ${o.seedN} creates (/users/all + POST each)`,
          `${ms(seedCreateMs)}; per key ${x(seedVsOurs)} ours' creates (cleanup ${ms(median(m.seed.map((s) => s.deleteMs)))})`,
        ],
        [
          "__provider text: ours / sleep / got / node:http floor",
          HOST_VARIANTS.map((v) => `${m.providerTextBytes[v]} B`).join(" / "),
        ],
        ["keys left behind", String(m.leftoverKeys)],
      ],
    ),
    "",
    table(
      ["goal (JSON field)", "measured", "per repeat", "goal", "result"],
      goals.map((g) => [g.field, g.shown, g.range, g.goal, g.pass ? "pass" : "MISS"]),
    ),
    "",
  ].join("\n");

  const json = {
    overheadVsGotFloor: round(overheadVsGotFloor, 4),
    cpuPerKeyOverFloorMs: round(cpuPerKeyOverFloorMs, 3),
    firstKeyOverFloorMs: round(firstKeyOverFloorMs),
    retainedBytesPerKey: Math.round(retainedBytesPerKey),
    requestsPerKey: round(requestsPerKey, 4),
    lookupBytes10k: m.lookupBytes10k,
    lookupBytes10: m.lookupBytes10,
    providerTextBytes: m.providerTextBytes.ours,
    overheadVsRaw: round(overheadVsRaw, 4),
    overheadVsRawAt,
    overheadVsGotFloorAt,
    hostPeakRssMb1000: round(hostPeakRssMb1000),
    hostCpuPerKeyMs: Object.fromEntries(HOST_VARIANTS.map((v) => [v, round(cpuPerKey(v), 3)])),
    engineCpuPerKeyMs: Object.fromEntries(HOST_VARIANTS.map((v) => [v, round(enginePerKey(v), 3)])),
    floorsVsRaw: Object.fromEntries(HOST_VARIANTS.slice(1).map((v) => [v, round(vsRaw(v), 4)])),
    firstKeyFromSpawnOverFloorMs: round(firstKeyFromSpawnOverFloorMs),
    firstKeyOverFloorMsMainRuns: round(firstKeyOverFloorMsMainRuns),
    overheadVsGotStateFloor: round(stateFloorRatio, 4),
    cpuPerKeyOverStateFloorMs: round(cpuPerKeyOverStateFloorMs, 3),
    stateFloorVsGotFloor: round(stateCostRatio, 4),
    stateCpuPerKeyMs: round(stateCpuPerKeyMs, 3),
    spread: Object.fromEntries(
      Object.entries(spread).map(([field, [lo, hi]]) => [field, [round(lo, 3), round(hi, 3)]]),
    ),
    firstKeyRepeats: o.firstKeyRepeats,
    floorRetainedBytesPerKey: Math.round(retained("gotFloor")),
    retainedBytesPerKeyCold: Math.round(retainedCold("ours")),
    floorRetainedBytesPerKeyCold: Math.round(retainedCold("gotFloor")),
    retainedBytesPerKeyColdOverFloor: Math.round(retainedCold("ours") - retainedCold("gotFloor")),
    floorPeakRssMb1000: round(peakMb("gotFloor")),
    seedLookupBytes10k: m.seedLookupBytes10k,
    seedVsOurs: round(seedVsOurs, 3),
    seedVsOursBasis: `creates only, per key (${o.seedN} seed creates vs ${o.n} of ours)`,
    seedN: o.seedN,
    seedCreateMs: round(seedCreateMs),
    seedCleanupMs: round(median(m.seed.map((s) => s.deleteMs))),
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
  return { text, json };
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

function bytes(value: number): string {
  return Number.isNaN(value) ? "n/a" : `${value.toFixed(0)} B`;
}

function mb(bytes: number): string {
  return Number.isNaN(bytes) ? "n/a" : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
