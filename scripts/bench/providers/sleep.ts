/**
 * The host floor: a provider that sends nothing and only waits, per create and per delete, as
 * long as the emulator's latency (`BENCH_SLEEP_MS`). What remains is the host and its gRPC calls.
 */
import { attachTo } from "./attach";

const wait = () =>
  new Promise<void>((resolve) => setTimeout(resolve, Number(process.env.BENCH_SLEEP_MS ?? 0)));

let next = 0;

export function attach(target: object): void {
  attachTo(target, {
    async check(_olds, news) {
      return { inputs: news };
    },
    async create() {
      await wait();
      return { id: `sleep-${++next}`, outs: {} };
    },
    async delete() {
      await wait();
    },
  });
}
