/**
 * `npm run bench -- --profile <dir>`: V8 CPU profiles of the process serving the calls during N
 * creates and N deletes — ours' dynamic host, the resource plugin and the got floor's host — and
 * where their time goes: self time per package group, ours against the floor and the plugin
 * against ours, and the top functions. The profiler runs inside the process (providers/probe.ts;
 * in the plugin, probe-preload.ts) from just before the first Check to the last Create, then
 * over the deletes; the same sampler `node --cpu-prof` uses, without the start-up.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { OctopusEmulator } from "../../emulator/server";
import type { Options } from "./args";
import { dynamicHost, Front, resourcePlugin } from "./fronts";
import { HostRun, runHost } from "./host-run";
import type { ProviderTexts } from "./texts";
import { log, table } from "./util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** got's own package and its dependencies (got 14). */
const GOT = [
  "got",
  "@sindresorhus/is",
  "byte-counter",
  "cacheable-lookup",
  "cacheable-request",
  "decompress-response",
  "form-data-encoder",
  "http2-wrapper",
  "keyv",
  "lowercase-keys",
  "p-cancelable",
  "responselike",
  "mimic-response",
  "normalize-url",
  "@szmarczak/http-timer",
  "defer-to-connect",
  "get-stream",
  "quick-lru",
];

/** The group a function belongs to, from its script URL. */
export function groupOf(frame: ProfileNode["callFrame"]): string {
  const { url, functionName } = frame;
  if (functionName === "(idle)") return "idle";
  if (functionName === "(garbage collector)") return "gc";
  if (functionName === "(program)") return "V8 (program)";
  if (/\/dist\/provider\//.test(url)) return "ours";
  if (/\/dist\/scripts\/bench\/providers\//.test(url)) return "bench floor provider";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
  if (pkg && GOT.includes(pkg)) return "got";
  if (pkg === "@grpc/grpc-js" || pkg === "@grpc/proto-loader") return "grpc";
  if (pkg === "google-protobuf") return "protobuf";
  if (pkg === "@pulumi/pulumi") return "pulumi host";
  if (pkg) return `other: ${pkg}`;
  if (url.startsWith("node:") || url === "") return "node core";
  return "other";
}

interface Summary {
  totalMs: number;
  /** Self time per group. */
  groups: Map<string, number>;
  /**
   * Self time per owner: node core's time goes to the nearest caller in a package (node:http
   * under got is got's, http2 under gRPC is gRPC's); what has none stays "node core".
   */
  owners: Map<string, number>;
  functions: Array<{ name: string; group: string; ms: number }>;
}

/** Groups that do not own their time: it goes to the package that called into them. */
const NOT_OWNERS = new Set(["node core"]);

/** Self time per group and per function; a sample counts the time until the next one. */
export function summarize(profile: CpuProfile): Summary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const ownerOf = (id: number): string => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const group = groupOf(byId.get(at)!.callFrame);
      if (!NOT_OWNERS.has(group)) return group;
    }
    return "node core";
  };
  const self = new Map<number, number>();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    const us = timeDeltas[i + 1] ?? timeDeltas[i] ?? 0;
    self.set(samples[i], (self.get(samples[i]) ?? 0) + us / 1000);
  }
  const groups = new Map<string, number>();
  const owners = new Map<string, number>();
  const functions = new Map<string, { name: string; group: string; ms: number }>();
  let totalMs = 0;
  for (const [id, ms] of self) {
    const frame = byId.get(id)!.callFrame;
    const group = groupOf(frame);
    if (group === "idle") continue;
    totalMs += ms;
    groups.set(group, (groups.get(group) ?? 0) + ms);
    const owner = ownerOf(id);
    owners.set(owner, (owners.get(owner) ?? 0) + ms);
    const where = frame.url ? `${shorten(frame.url)}:${frame.lineNumber + 1}` : "native";
    const name = `${frame.functionName || "(anonymous)"} ${where}`;
    const entry = functions.get(name) ?? { name, group, ms: 0 };
    entry.ms += ms;
    functions.set(name, entry);
  }
  return {
    totalMs,
    groups,
    owners,
    functions: [...functions.values()].sort((a, b) => b.ms - a.ms),
  };
}

function shorten(url: string): string {
  return url
    .replace(/^file:\/\//, "")
    .replace(/^.*\/node_modules\//, "")
    .replace(/^.*\/dist\//, "dist/");
}

export async function profile(
  emulator: OctopusEmulator,
  texts: ProviderTexts,
  o: Options,
  dir: string,
): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const runs: Record<string, HostRun> = {};
  const fronts: Array<[Variant, Front]> = [
    ["ours", dynamicHost(texts.ours, texts.probe)],
    ["plugin", resourcePlugin],
    ["gotFloor", dynamicHost(texts.got, texts.probe)],
  ];
  for (const [variant, front] of fronts) {
    const files = {
      creates: path.resolve(dir, `host-${variant}-creates.cpuprofile`),
      deletes: path.resolve(dir, `host-${variant}-deletes.cpuprofile`),
    };
    log(`profiling the ${variant} host during ${o.n} creates and ${o.n} deletes → ${dir}`);
    runs[variant] = await runHost(
      emulator,
      front,
      { ...o, sleepMs: o.latency, profileFiles: files },
      `profile ${variant}`,
    );
  }
  const read = (variant: Variant, phase: Phase) =>
    summarize(
      JSON.parse(
        fs.readFileSync(path.resolve(dir, `host-${variant}-${phase}.cpuprofile`), "utf8"),
      ) as CpuProfile,
    );
  return (
    (["creates", "deletes"] as const)
      .map((phase) =>
        render(
          phase,
          Object.fromEntries(fronts.map(([v]) => [v, read(v, phase)])) as Record<Variant, Summary>,
          Object.fromEntries(
            fronts.map(([v]) => [
              v,
              phase === "creates" ? runs[v].cpuCreateMs : runs[v].cpuDeleteMs,
            ]),
          ) as Record<Variant, number>,
          o,
        ),
      )
      .join("\n") + `profiles: ${path.resolve(dir)}\n`
  );
}

type Phase = "creates" | "deletes";
type Variant = "ours" | "plugin" | "gotFloor";

const LABEL: Record<Variant, string> = { ours: "ours", plugin: "plugin", gotFloor: "got floor" };

function render(
  phase: Phase,
  summaries: Record<Variant, Summary>,
  cpuMs: Record<Variant, number>,
  o: Options,
): string {
  // The sampler counts wall time between samples, which on a loaded machine includes time the
  // host waited for a core: shares are reliable, absolute times are scaled to the host's CPU.
  const perKey = (variant: Variant, ms: number) =>
    ((ms / summaries[variant].totalMs) * cpuMs[variant]) / o.n;
  const share = (variant: Variant, ms: number) =>
    `${((100 * ms) / summaries[variant].totalMs).toFixed(1)} %`;
  /** Self time per group of `a` and `b`, per key, and `a` − `b`. */
  const groupTable = (a: Variant, b: Variant, pick: (s: Summary) => Map<string, number>) => {
    const names = [...new Set([...pick(summaries[a]).keys(), ...pick(summaries[b]).keys()])].sort(
      (x, y) => (pick(summaries[a]).get(y) ?? 0) - (pick(summaries[a]).get(x) ?? 0),
    );
    const [la, lb] = [LABEL[a], LABEL[b]];
    return table(
      ["group", la, `${la} ms/key`, lb, `${lb} ms/key`, `${la} − ${lb} ms/key`],
      [
        ...names.map((g) => {
          const x = pick(summaries[a]).get(g) ?? 0;
          const y = pick(summaries[b]).get(g) ?? 0;
          return [
            g,
            share(a, x),
            perKey(a, x).toFixed(3),
            share(b, y),
            perKey(b, y).toFixed(3),
            (perKey(a, x) - perKey(b, y)).toFixed(3),
          ];
        }),
        [
          "total (host CPU from /proc)",
          "100 %",
          (cpuMs[a] / o.n).toFixed(3),
          "100 %",
          (cpuMs[b] / o.n).toFixed(3),
          ((cpuMs[a] - cpuMs[b]) / o.n).toFixed(3),
        ],
      ],
    );
  };
  const top = (variant: Variant, filter: (g: string) => boolean, count: number) =>
    summaries[variant].functions
      .filter((f) => filter(f.group))
      .slice(0, count)
      .map((f) => [f.name, f.group, share(variant, f.ms), perKey(variant, f.ms).toFixed(3)]);
  return [
    `host CPU profiles during ${o.n} ${phase} (parallelism ${o.parallelism}, ${o.latency} ms); idle excluded`,
    "",
    "self time by group",
    groupTable("ours", "gotFloor", (s) => s.groups),
    "",
    "self time by owner (node core's time given to the package that called into it)",
    groupTable("ours", "gotFloor", (s) => s.owners),
    "",
    "the plugin against ours' host, self time by owner",
    groupTable("plugin", "ours", (s) => s.owners),
    "",
    "ours: top functions by self time",
    table(
      ["function", "group", "share", "ms/key"],
      top("ours", () => true, 30),
    ),
    "",
    "ours: top functions in our code",
    table(
      ["function", "group", "share", "ms/key"],
      top("ours", (g) => g === "ours", 20),
    ),
    "",
    "plugin: top functions in our code (the core and the plugin's own translation)",
    table(
      ["function", "group", "share", "ms/key"],
      top("plugin", (g) => g === "ours", 20),
    ),
    "",
    "got floor: top functions by self time",
    table(
      ["function", "group", "share", "ms/key"],
      top("gotFloor", () => true, 15),
    ),
    "",
  ].join("\n");
}
