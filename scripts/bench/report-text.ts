/** The human report: the tables and notes printed before the last-line JSON. */
import type { Figures } from "./figures";
import type { HostRun } from "./host-run";
import { DYNAMIC_VARIANTS, HOST_VARIANTS, HostVariant, Measurements, total } from "./measurements";
import { median, table } from "./util";

export interface Goal {
  field: string;
  measured: number;
  shown: string;
  /** Lowest to highest per-repeat value, for a paired figure (its median is `measured`). */
  range: string;
  goal: string;
  pass: boolean;
}

const LABEL: Record<HostVariant, string> = {
  ours: "ours: OctopusApiKey through the host",
  plugin: "plugin: pulumi-resource-octopusapikey",
  sleepFloor: "host floor: provider only sleeps",
  gotFloor: "got floor: minimal provider, got",
  gotStateFloor: "got floor with ours' outputs",
  httpFloor: "node:http floor: minimal provider",
};

const ms = (v: number) => (Number.isNaN(v) ? "n/a" : `${v.toFixed(0)} ms`);
const msPerKey = (v: number) => (Number.isNaN(v) ? "n/a" : `${v.toFixed(2)} ms`);
const x = (v: number) => (Number.isNaN(v) ? "n/a" : `${v.toFixed(2)}×`);
const kib = (v: number) => (v >= 10_240 ? `${(v / 1024).toFixed(1)} KiB` : `${v} B`);
const bytes = (v: number) => (Number.isNaN(v) ? "n/a" : `${v.toFixed(0)} B`);
const mb = (v: number) => (Number.isNaN(v) ? "n/a" : `${(v / 1024 / 1024).toFixed(1)} MB`);

export function reportText(m: Measurements, f: Figures, goals: Goal[]): string {
  const { o } = m;
  const hostRow = (v: HostVariant) => [
    LABEL[v],
    ms(f.med(v, (r) => r.createMs)),
    ms(f.med(v, (r) => r.deleteMs)),
    ms(f.med(v, total)),
    x(f.vsRaw(v)),
    x(f.vsGotFloor(v)),
    msPerKey(f.cpuPerKey(v)),
    msPerKey(f.enginePerKey(v)),
    ms(f.med(v, (r: HostRun) => r.cpuTotalMs)),
    ms(f.med(v, (r) => r.firstKeyMs)),
    ms(f.med(v, (r) => r.firstKeyAfterReadyMs)),
  ];
  const raw = m.main.map((r) => r.raw);
  const routes = Object.entries(f.runs("ours").at(-1)?.byRoute ?? {})
    .map(([route, count]) => `${count}× ${route}`)
    .join(", ");
  const latencies = [...m.sweep.keys()];
  const { points, heapAt, retained, retainedCold, peakMb } = f.memory;
  const [k0, k1] = points;
  const kLast = points[points.length - 1];
  const memVariants = HOST_VARIANTS.filter((v) => m.memory[v]);
  const firstKey = (v: "ours" | "gotFloor" | "plugin") =>
    `${ms(f.firstKeyMedian(v, "firstKeyAfterReadyMs"))} (spawn ${ms(f.firstKeyMedian(v, "firstKeyMs"))})`;

  return [
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
          ...Array<string>(6).fill(""),
        ],
      ],
    ),
    "  Ratios are medians of per-repeat ratios (each repeat runs every variant back to back, ours",
    "  next to the got floor and the plugin, order reversed every other repeat). Host CPU/key: the",
    "  CPU (/proc) of the process serving the calls — the dynamic provider host, or the plugin —",
    "  during the creates and deletes ÷ N; engine CPU/key: this process's (the engine's stand-in, in",
    "  JavaScript where the real engine is Go, and the emulator), the same way; host CPU all: from",
    "  spawn to the last delete.",
    "  1st key: first create completed, counted from the host's spawn, or from the start of the",
    "  creates (host ready); the goals' figures come from the fresh hosts below.",
    `  ours sent during the creates: ${routes}`,
    "",
    `ours' state, apart from our code: the got floor with ours' outputs is ${x(f.stateFloorVsGotFloor)} the got floor ` +
      `(${f.stateCpuPerKeyMs.toFixed(2)} ms host CPU per key more); ours is ${x(f.overheadVsGotStateFloor)} it ` +
      `(${f.cpuPerKeyOverStateFloorMs.toFixed(2)} ms more)`,
    "",
    `the plugin against the dynamic host (the same keys, the same core): ${x(f.pluginVsDynamic)} its time, ` +
      `${f.pluginCpuPerKeyOverDynamicMs.toFixed(2)} ms host CPU per key more (${f.cpuPerKey("plugin").toFixed(2)} ` +
      `against ${f.cpuPerKey("ours").toFixed(2)} ms); against the got floor ${x(f.pluginVsGotFloor)}, ` +
      `${f.pluginCpuPerKeyOverFloorMs.toFixed(2)} ms more`,
    "",
    `first key, ${m.firstKey.length} groups of fresh hosts making their first ${o.parallelism} keys at once, ` +
      `from the host ready (from its spawn): ours ${firstKey("ours")}, got floor ${firstKey("gotFloor")}, ` +
      `plugin ${firstKey("plugin")}. Ours − floor ${ms(f.firstKeyOverFloorMs)} ` +
      `(spawn ${ms(f.firstKeyFromSpawnOverFloorMs)}); plugin − ours ${ms(f.pluginFirstKeyOverDynamicMs)} ` +
      `(spawn ${ms(f.pluginFirstKeyFromSpawnOverDynamicMs)})`,
    "",
    table(
      ["latency", ...latencies.map((l) => `${l} ms`)],
      [
        ["ours vs raw", ...latencies.map((l) => x(f.overheadVsRawAt[String(l)]))],
        ["ours vs got floor", ...latencies.map((l) => x(f.overheadVsGotFloorAt[String(l)]))],
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
    "  goal's figure. The plugin's heap is read by the same probe, preloaded into its process.",
    "",
    table(
      ["measure", "value"],
      [
        ["our lookup, 10,000 users", kib(m.lookupBytes10k)],
        ["our lookup, 10 users", kib(m.lookupBytes10)],
        ["seed lookup (/api/users/all), 10,000 users", kib(m.seedLookupBytes10k)],
        [
          `seed method: ${o.seedN} creates (/users/all + POST each)`,
          `${ms(f.seedCreateMs)}; per key ${x(f.seedVsOurs)} ours' creates (cleanup ${ms(f.seedCleanupMs)})`,
        ],
        [
          "__provider text: ours / sleep / got / got-state / node:http floor",
          DYNAMIC_VARIANTS.map((v) => `${m.providerTextBytes[v]} B`).join(" / "),
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
}
