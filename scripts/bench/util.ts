/** Small helpers the benchmark's parts share: timing, a bounded pool, medians, tables. */

const started = performance.now();

/** Progress, on stderr, with the seconds since the benchmark started. */
export function log(message: string): void {
  const seconds = ((performance.now() - started) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`bench ${seconds} s: ${message}\n`);
}

export function median(values: number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

export async function timed<T>(body: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await body();
  return { ms: performance.now() - started, value };
}

/**
 * Runs `task(0…count-1)` with at most `parallelism` in flight. After a failure no new task starts;
 * the first error is thrown once the running ones have settled, so nothing is left in the air.
 */
export async function pool<T>(
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

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
