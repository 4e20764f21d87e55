/**
 * `npm run bench`: what this package adds to creating and revoking Octopus API keys, measured
 * against floors run in the same process and paired with ours, on the local emulator.
 *
 *   npm run bench -- [--quick] [--n 200] [--parallelism 10] [--latency 20] [--users 10000]
 *                    [--repeats 8] [--first-key-repeats 10] [--sweep 5,20,50,100]
 *                    [--sweep-repeats 3] [--mem-n 1000] [--seed-repeats 1] [--seed-n 50]
 *                    [--check] [--profile <dir>]
 *
 * Variants, each N creates (Check + Create, as the engine does) then N deletes:
 * - ours: OctopusApiKey through the real @pulumi/pulumi provider host over gRPC, a new host each
 *   run (so each run pays loading and its one user lookup);
 * - plugin: the same keys through the resource plugin `pulumi-resource-octopusapikey` (the same
 *   core), launched as the engine launches it and configured from the same environment, a new
 *   plugin process each run;
 * - host floor: the same host and calls, with a provider that only sleeps the latency per call;
 * - got floor: the same host with a minimal provider sending our requests (one user lookup, a
 *   POST per key, a DELETE per key) with got configured as ours is;
 * - got floor with ours' outputs: the got floor returning outputs shaped as ours (what carrying
 *   our state costs, apart from our code);
 * - node:http floor: the same requests with node:http, for reference;
 * - raw: the same POSTs and DELETEs with got directly, no host, user id known.
 * Each repeat runs every variant back to back, ours between the got floor and the plugin (order
 * reversed every other repeat); ratios are medians of the per-repeat ratios. The first key's time
 * comes from groups of fresh hosts of their own (the got floor, ours, the plugin) that make only
 * the first keys. The sweep repeats ours, the got floor and raw at other latencies. Memory: the
 * heap after two full GCs, at N and memN keys and four steps beyond, in ours', the got floor's
 * and the plugin's processes (bench/providers/probe.ts, preloaded into the plugin by
 * bench/probe-preload.ts). Also: requests per key, lookup bytes, the seed scripts' method.
 *
 * `--profile <dir>` instead writes CPU profiles of ours' host, the plugin and the got floor's
 * host during the creates and the deletes, and prints where the time goes (bench/profile.ts).
 * Host CPU is read from /proc for every variant, the plugin included (bench/host-run.ts).
 *
 * The tables go to stdout, progress to stderr; the last line of stdout is one JSON object. Missed
 * goals fail the process only with --check.
 */
import { OctopusEmulator } from "../emulator/server";
import { parseArgs } from "./bench/args";
import {
  lookupBytes,
  rawClient,
  runRaw,
  runSeed,
  seedLookupBytes,
  sweepLeftovers,
} from "./bench/direct";
import { dynamicHost, Front, resourcePlugin } from "./bench/fronts";
import { runFirstKey, runHost } from "./bench/host-run";
import {
  DYNAMIC_VARIANTS,
  DynamicVariant,
  FirstKeyPair,
  FirstKeyVariant,
  HostVariant,
  Measurements,
  memoryPoints,
  Repeat,
} from "./bench/measurements";
import { profile } from "./bench/profile";
import { report } from "./bench/report";
import { ProviderTexts, providerTexts } from "./bench/texts";
import { log } from "./bench/util";

const TEXT: Record<DynamicVariant, keyof ProviderTexts> = {
  ours: "ours",
  sleepFloor: "sleep",
  gotFloor: "got",
  gotStateFloor: "got-state",
  httpFloor: "node-http",
};

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const { got } = await import("got");
  const emulators: OctopusEmulator[] = [];
  const start = async (users: number, latencyMs: number) => {
    const emulator = await OctopusEmulator.start({ users, latencyMs });
    emulators.push(emulator);
    return emulator;
  };

  try {
    log("capturing the provider texts under Pulumi mocks");
    const texts = await providerTexts();
    log(`starting the emulator (${o.users} filler users, ${o.latency} ms latency)`);
    const big = await start(o.users, o.latency);
    const front = (v: HostVariant): Front =>
      v === "plugin" ? resourcePlugin : dynamicHost(texts[TEXT[v]], texts.probe);

    if (o.profile) {
      process.stdout.write(await profile(big, texts, o, o.profile));
      return;
    }

    /**
     * One repeat: the given host variants and raw, back to back, reversed on even repeats. Ours
     * sits between the two got floors: the figures that compare them come from runs side by
     * side, each first in half of the repeats.
     */
    const repeat = async (
      emulator: OctopusEmulator,
      latency: number,
      variants: HostVariant[],
      r: number,
    ): Promise<Repeat> => {
      const result: Repeat = { hosts: {}, raw: { createMs: NaN, deleteMs: NaN } };
      const steps: Array<HostVariant | "raw"> = [...variants, "raw"];
      if (r % 2 === 0) steps.reverse();
      for (const step of steps) {
        log(`  ${latency} ms, repeat ${r}: ${step}`);
        await twice(emulators, async () => {
          if (step === "raw") {
            result.raw = await runRaw(
              rawClient(got, emulator),
              emulator,
              o.n,
              o.parallelism,
              `raw ${r}`,
            );
          } else {
            result.hosts[step] = await runHost(
              emulator,
              front(step),
              { ...o, sleepMs: latency },
              `${step} ${latency}.${r}`,
            );
          }
        });
      }
      return result;
    };

    const m: Measurements = {
      o,
      main: [],
      firstKey: [],
      sweep: new Map(),
      memory: {},
      seed: [],
      lookupBytes10k: 0,
      lookupBytes10: 0,
      seedLookupBytes10k: 0,
      providerTextBytes: Object.fromEntries(
        DYNAMIC_VARIANTS.map((v) => [v, Buffer.byteLength(texts[TEXT[v]])]),
      ) as Record<DynamicVariant, number>,
      leftoverKeys: 0,
    };

    log(`main: ${o.repeats} paired repeats at ${o.latency} ms`);
    // Ours between the got floor and the plugin: the goals compare it with both. The two got
    // floors side by side (what carrying ours' state costs).
    const order: HostVariant[] = [
      "gotStateFloor",
      "gotFloor",
      "ours",
      "plugin",
      "sleepFloor",
      "httpFloor",
    ];
    for (let r = 1; r <= o.repeats; r++) m.main.push(await repeat(big, o.latency, order, r));

    log(`first key: ${o.firstKeyRepeats} groups of fresh hosts (got floor, ours, plugin)`);
    for (let r = 1; r <= o.firstKeyRepeats; r++) {
      const pair: FirstKeyPair = {};
      const variants: FirstKeyVariant[] = ["gotFloor", "ours", "plugin"];
      if (r % 2 === 0) variants.reverse();
      for (const variant of variants) {
        await twice(emulators, async () => {
          pair[variant] = await runFirstKey(
            big,
            front(variant),
            o.parallelism,
            `${variant} first.${r}`,
          );
        });
      }
      m.firstKey.push(pair);
    }

    for (const latency of [...new Set(o.sweep)].sort((a, b) => a - b)) {
      if (latency === o.latency) {
        m.sweep.set(latency, m.main);
        continue;
      }
      log(`sweep: ${o.sweepRepeats} paired repeats at ${latency} ms`);
      const emulator = await start(o.users, latency);
      const repeats: Repeat[] = [];
      for (let r = 1; r <= o.sweepRepeats; r++) {
        repeats.push(await repeat(emulator, latency, ["ours", "gotFloor"], r));
      }
      m.sweep.set(latency, repeats);
      await emulator.close();
    }

    const memoryAt = memoryPoints(o);
    for (const variant of ["ours", "gotFloor", "plugin"] as const) {
      log(`memory: ${variant}, heap after ${memoryAt.join(", ")} keys in one host`);
      await twice(emulators, async () => {
        m.memory[variant] = await runHost(
          big,
          front(variant),
          { ...o, sleepMs: o.latency, memoryAt },
          `${variant} memory`,
        );
      });
    }

    const raw = rawClient(got, big);
    for (let r = 1; r <= o.seedRepeats; r++) {
      log(`seed method, repeat ${r}/${o.seedRepeats}`);
      await twice(emulators, async () => {
        m.seed.push(await runSeed(rawClient(got, big), big, o.seedN, o.parallelism, `seed ${r}`));
      });
    }

    log("measuring lookup bytes");
    // Ten users in all: the three seeded ones and seven fillers (latency does not change bytes).
    const small = await start(7, 0);
    m.lookupBytes10k = await lookupBytes(big);
    m.lookupBytes10 = await lookupBytes(small);
    m.seedLookupBytes10k = await seedLookupBytes(raw, big);
    m.leftoverKeys = sweepLeftovers(emulators);

    const { text, json } = report(m);
    process.stdout.write(text + "\n");
    process.stdout.write(JSON.stringify(json) + "\n");
    if (o.check && (!json.goalsMet || m.leftoverKeys > 0)) process.exitCode = 1;
  } finally {
    // After a failure: revoke whatever the benchmark made before stopping the emulators.
    const left = sweepLeftovers(emulators);
    if (left > 0) log(`revoked ${left} key(s) left behind by a failed run`);
    await Promise.all(emulators.map((e) => e.close()));
  }
}

/**
 * Runs one measurement, and once more if it fails: on a machine loaded by other work a keep-alive
 * socket or a host can fail now and then. The failed run's keys are revoked first.
 */
async function twice(emulators: OctopusEmulator[], run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    const left = sweepLeftovers(emulators);
    log(
      `  failed (${(error as Error).message.split("\n")[0]}); revoked ${left} key(s), running it again`,
    );
    await run();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
