/**
 * A provider the bench loads into a host after (or around) the measured work, to look inside the
 * host process without changing it: its `create` runs one `action` and returns the figures as
 * outputs. The resource plugin has no provider text to load: there the same actions are served by
 * ../probe-preload.ts, which the bench preloads into the plugin's process.
 *
 * - `memory`: two full garbage collections, then the heap and the peak RSS. `gc` is reached with
 *   `v8.setFlagsFromString("--expose-gc")` and a new context, since Node 20 refuses `--expose-gc`
 *   in NODE_OPTIONS; it collects the whole isolate, so it sees what our provider retains.
 * - `profileStart` / `profileStop`: V8's sampling CPU profiler (what `node --cpu-prof` uses), driven
 *   through an inspector session in the host so the profile covers only the window the bench
 *   chooses; `profileStop` writes the `.cpuprofile` to `file`.
 */
import * as fs from "node:fs";
import { Session } from "node:inspector";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { attachTo, Props } from "./attach";

let session: Session | undefined;

function post<T>(method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) =>
    session!.post(method, params, (error, result) =>
      error ? reject(error) : resolve(result as T),
    ),
  );
}

function collect(): void {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  gc();
  gc();
}

/** Runs one probe action in this process and returns its figures. */
export async function runProbe(inputs: Props): Promise<Props> {
  switch (inputs.action) {
    case "memory": {
      collect();
      const usage = process.memoryUsage();
      return {
        heapUsed: usage.heapUsed,
        external: usage.external,
        rss: usage.rss,
        maxRssKb: process.resourceUsage().maxRSS,
        spaces: Object.fromEntries(
          v8.getHeapSpaceStatistics().map((space) => [space.space_name, space.space_used_size]),
        ),
      };
    }
    case "profileStart":
      session = new Session();
      session.connect();
      await post("Profiler.enable");
      await post("Profiler.setSamplingInterval", { interval: Number(inputs.intervalUs ?? 200) });
      await post("Profiler.start");
      return {};
    case "profileStop": {
      const { profile } = await post<{ profile: unknown }>("Profiler.stop");
      fs.writeFileSync(String(inputs.file), JSON.stringify(profile));
      session!.disconnect();
      session = undefined;
      return {};
    }
    default:
      throw new Error(`unknown probe action ${String(inputs.action)}`);
  }
}

let calls = 0;

export function attach(target: object): void {
  attachTo(target, {
    async create(inputs) {
      return { id: `probe-${++calls}`, outs: await runProbe(inputs) };
    },
  });
}
