/** Command-line options of `npm run bench`. */
export interface Options {
  n: number;
  parallelism: number;
  latency: number;
  users: number;
  /**
   * Paired repeats at the main latency (ours, the plugin, the four floors and raw, each once per
   * repeat). Even, so that ours runs before the got floor and the plugin in half of them and after
   * them in the others.
   */
  repeats: number;
  /**
   * Groups of fresh hosts (the got floor, ours, the plugin) that make only the first
   * `parallelism` keys: the first key's time is one sample per host, so it gets samples of its own.
   */
  firstKeyRepeats: number;
  /** Latencies of the sweep, in ms; the main latency is reused when it is one of them. */
  sweep: number[];
  sweepRepeats: number;
  /** Memory runs read the heap at N, memN and four steps of (memN − N)/2 beyond (memoryPoints). */
  memN: number;
  seedRepeats: number;
  /** Keys per seed-method run: its per-key time is compared with ours (it is linear in N). */
  seedN: number;
  check: boolean;
  /** Instead of the benchmark: profile the host during ours' creates, write it here, summarize. */
  profile: string | undefined;
}

export const USAGE =
  "usage: npm run bench -- [--quick] [--n 200] [--parallelism 10] [--latency 20] [--users 10000]\n" +
  "                        [--repeats 8] [--first-key-repeats 10] [--sweep 5,20,50,100]\n" +
  "                        [--sweep-repeats 3] [--mem-n 1000] [--seed-repeats 1] [--seed-n 50]\n" +
  "                        [--check] [--profile <dir>]";

const DEFAULTS: Options = {
  n: 200,
  parallelism: 10,
  latency: 20,
  users: 10_000,
  repeats: 8,
  firstKeyRepeats: 10,
  sweep: [5, 20, 50, 100],
  sweepRepeats: 3,
  memN: 1_000,
  seedRepeats: 1,
  seedN: 50,
  check: false,
  profile: undefined,
};

/**
 * `--quick`: the same measurements on less work, for a look in about a minute on a quiet machine
 * (memN 200, not 250, makes room for the plugin's memory run). Too few repeats to judge a goal.
 */
const QUICK: Partial<Options> = {
  n: 50,
  repeats: 2,
  firstKeyRepeats: 4,
  sweepRepeats: 1,
  memN: 200,
  seedN: 20,
};

const INTEGER: Record<string, { key: keyof Options; min: number }> = {
  n: { key: "n", min: 1 },
  parallelism: { key: "parallelism", min: 1 },
  latency: { key: "latency", min: 0 },
  users: { key: "users", min: 0 },
  repeats: { key: "repeats", min: 1 },
  "first-key-repeats": { key: "firstKeyRepeats", min: 1 },
  "sweep-repeats": { key: "sweepRepeats", min: 1 },
  "mem-n": { key: "memN", min: 2 },
  "seed-repeats": { key: "seedRepeats", min: 0 },
  "seed-n": { key: "seedN", min: 1 },
};

export function parseArgs(argv: string[]): Options {
  const given: Partial<Options> = {};
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split("=", 2);
    const name = flag.replace(/^--/, "");
    if (name === flag) usage(`unknown argument ${argv[i]}`);
    if (name === "check" || name === "quick") {
      if (name === "check") given.check = true;
      else quick = true;
      continue;
    }
    if (name !== "profile" && name !== "sweep" && !(name in INTEGER)) {
      usage(`unknown option ${argv[i]}`);
    }
    const raw = inline ?? argv[++i];
    if (raw === undefined) usage(`--${name} needs a value`);
    if (name === "profile") {
      given.profile = raw;
    } else if (name === "sweep") {
      const values = raw.split(",").map(Number);
      if (values.some((v) => !Number.isInteger(v) || v < 0)) usage("--sweep needs ms like 5,20,50");
      given.sweep = values;
    } else {
      const { key, min } = INTEGER[name];
      const value = Number(raw);
      if (!Number.isInteger(value) || value < min) usage(`--${name} needs an integer ≥ ${min}`);
      (given as Record<string, number>)[key] = value;
    }
  }
  const options = { ...DEFAULTS, ...(quick ? QUICK : {}), ...given };
  if (options.memN <= options.n) usage(`--mem-n (${options.memN}) must exceed --n (${options.n})`);
  return options;
}

function usage(problem: string): never {
  process.stderr.write(`${problem}\n${USAGE}\n`);
  process.exit(2);
}
