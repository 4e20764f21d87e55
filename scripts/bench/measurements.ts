/** What the bench collects, and the statistics its figures are made of. */
import type { Options } from "./args";
import type { Phase } from "./direct";
import type { FirstKeyRun, HostRun } from "./host-run";
import { median } from "./util";

/** The variants run in a dynamic provider host, each from its own provider text. */
export type DynamicVariant = "ours" | "sleepFloor" | "gotFloor" | "gotStateFloor" | "httpFloor";
export const DYNAMIC_VARIANTS: DynamicVariant[] = [
  "ours",
  "sleepFloor",
  "gotFloor",
  "gotStateFloor",
  "httpFloor",
];

/** Every variant with a host process: the dynamic ones and the resource plugin. */
export type HostVariant = DynamicVariant | "plugin";
export const HOST_VARIANTS: HostVariant[] = ["ours", "plugin", ...DYNAMIC_VARIANTS.slice(1)];

/** The floors (no code of this package in them). */
export const FLOORS: HostVariant[] = ["sleepFloor", "gotFloor", "gotStateFloor", "httpFloor"];

/** One repeat at one latency: every host variant run and raw, run back to back. */
export interface Repeat {
  hosts: Partial<Record<HostVariant, HostRun>>;
  raw: Phase;
}

/** The variants given fresh hosts of their own for the first key. */
export type FirstKeyVariant = "ours" | "gotFloor" | "plugin";

/** One group of first-key runs: fresh hosts of ours, the got floor and the plugin, back to back. */
export type FirstKeyPair = Partial<Record<FirstKeyVariant, FirstKeyRun>>;

export interface Measurements {
  o: Options;
  /** Repeats at the main latency. */
  main: Repeat[];
  /** Groups of fresh hosts that made only the first keys. */
  firstKey: FirstKeyPair[];
  /** Repeats per sweep latency (ours, got floor and raw only), the main one included. */
  sweep: Map<number, Repeat[]>;
  /** Memory runs: one host per variant, probed at {@link memoryPoints}. */
  memory: Partial<Record<HostVariant, HostRun>>;
  seed: Phase[];
  lookupBytes10k: number;
  lookupBytes10: number;
  seedLookupBytes10k: number;
  providerTextBytes: Record<DynamicVariant, number>;
  leftoverKeys: number;
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
export function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxy / sxx;
}

export const total = (x: Phase): number => x.createMs + x.deleteMs;
export const cpu = (x: HostRun): number => x.cpuCreateMs + x.cpuDeleteMs;

/** Median over repeats of a figure computed within each repeat (paired), NaN when absent. */
export function paired<R>(repeats: R[], figure: (r: R) => number | undefined): number {
  return median(repeats.map((r) => figure(r) ?? NaN));
}

/** The lowest and highest per-repeat value of a paired figure: how much one repeat can vary. */
export function range<R>(repeats: R[], figure: (r: R) => number | undefined): [number, number] {
  const values = repeats.map((r) => figure(r) ?? NaN).filter((v) => !Number.isNaN(v));
  return values.length ? [Math.min(...values), Math.max(...values)] : [NaN, NaN];
}

/** Wall time of `a` ÷ wall time of `b`, creates and deletes together. */
export function ratio(a: Phase | undefined, b: Phase | undefined): number | undefined {
  return a && b ? total(a) / total(b) : undefined;
}
