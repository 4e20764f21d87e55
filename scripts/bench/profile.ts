/**
 * `npm run bench -- --profile <dir>`: V8 CPU profiles of the host during N creates, ours and the
 * got floor, and where their time goes: self time per package group and the top functions.
 * The profiler runs inside the host (see providers/probe.ts) from just before the first Check to
 * the last Create; the same sampler `node --cpu-prof` uses, without the host's start-up.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { OctopusEmulator } from "../../emulator/server";
import type { Options } from "./args";
import { dynamicHost } from "./fronts";
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
  for (const [variant, text] of [
    ["ours", texts.ours],
    ["gotFloor", texts.got],
  ] as const) {
    const files = {
      creates: path.resolve(dir, `host-${variant}-creates.cpuprofile`),
      deletes: path.resolve(dir, `host-${variant}-deletes.cpuprofile`),
    };
    log(`profiling the ${variant} host during ${o.n} creates and ${o.n} deletes → ${dir}`);
    runs[variant] = await runHost(
      emulator,
      dynamicHost(text, texts.probe),
      { ...o, sleepMs: o.latency, profileFiles: files },
      `profile ${variant}`,
    );
  }
  const read = (variant: string, phase: Phase) =>
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
          { ours: read("ours", phase), gotFloor: read("gotFloor", phase) },
          {
            ours: phase === "creates" ? runs.ours.cpuCreateMs : runs.ours.cpuDeleteMs,
            gotFloor: phase === "creates" ? runs.gotFloor.cpuCreateMs : runs.gotFloor.cpuDeleteMs,
          },
          o,
        ),
      )
      .join("\n") + `profiles: ${path.resolve(dir)}\n`
  );
}

type Phase = "creates" | "deletes";

function render(
  phase: Phase,
  summaries: Record<string, Summary>,
  cpuMs: Record<string, number>,
  o: Options,
): string {
  // The sampler counts wall time between samples, which on a loaded machine includes time the
  // host waited for a core: shares are reliable, absolute times are scaled to the host's CPU.
  const perKey = (variant: string, ms: number) =>
    ((ms / summaries[variant].totalMs) * cpuMs[variant]) / o.n;
  const share = (variant: string, ms: number) =>
    `${((100 * ms) / summaries[variant].totalMs).toFixed(1)} %`;
  const groupTable = (pick: (s: Summary) => Map<string, number>) => {
    const names = [
      ...new Set([...pick(summaries.ours).keys(), ...pick(summaries.gotFloor).keys()]),
    ].sort((a, b) => (pick(summaries.ours).get(b) ?? 0) - (pick(summaries.ours).get(a) ?? 0));
    return table(
      ["group", "ours", "ours ms/key", "got floor", "floor ms/key", "ours − floor ms/key"],
      [
        ...names.map((g) => {
          const a = pick(summaries.ours).get(g) ?? 0;
          const b = pick(summaries.gotFloor).get(g) ?? 0;
          const diff = perKey("ours", a) - perKey("gotFloor", b);
          return [
            g,
            share("ours", a),
            perKey("ours", a).toFixed(3),
            share("gotFloor", b),
            perKey("gotFloor", b).toFixed(3),
            diff.toFixed(3),
          ];
        }),
        [
          "total (host CPU from /proc)",
          "100 %",
          (cpuMs.ours / o.n).toFixed(3),
          "100 %",
          (cpuMs.gotFloor / o.n).toFixed(3),
          ((cpuMs.ours - cpuMs.gotFloor) / o.n).toFixed(3),
        ],
      ],
    );
  };
  const top = (variant: string, filter: (g: string) => boolean, count: number) =>
    summaries[variant].functions
      .filter((f) => filter(f.group))
      .slice(0, count)
      .map((f) => [f.name, f.group, share(variant, f.ms), perKey(variant, f.ms).toFixed(3)]);
  return [
    `host CPU profiles during ${o.n} ${phase} (parallelism ${o.parallelism}, ${o.latency} ms); idle excluded`,
    "",
    "self time by group",
    groupTable((s) => s.groups),
    "",
    "self time by owner (node core's time given to the package that called into it)",
    groupTable((s) => s.owners),
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
    "got floor: top functions by self time",
    table(
      ["function", "group", "share", "ms/key"],
      top("gotFloor", () => true, 15),
    ),
    "",
  ].join("\n");
}
