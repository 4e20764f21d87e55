import { PROFILES, isProfileName } from "./profiles";
import { OctopusEmulator, type EmulatorOptions } from "./server";

const USAGE =
  "usage: node dist/emulator/cli.js [--port N] [--host 127.0.0.1] [--users N] [--latency MS]\n" +
  "         [--base-path /octopus] [--seed N] [--profile " +
  PROFILES.join("|") +
  "]\n" +
  "         [--delete-answer json|noContent204|empty200] [--default-expiry-vs-caller refuse|clip]\n" +
  "         [--expires-precision ms|s|datetime] [--error-bodies errors|helpText]\n" +
  "         [--user-api-keys-disabled] [--no-user-api-keys-setting] [--date-header-offset MS]\n" +
  "         [--key-list-order newestFirst|oldestFirst|byId] [--key-list-filters honoured|ignored]\n" +
  "         [--wrong-owner-answer badRequest|notFound] [--actor-type-on-create honoured|ignored]\n" +
  "         [--authentication-endpoint anonymous|authenticated|administrators|missing]\n" +
  "         [--legacy-no-expiry (same as --profile 2025.3)]\n" +
  "--seed makes the administrator's key predictable: it is refused unless --host is loopback.";

export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Parses the CLI's arguments into emulator options; throws UsageError on anything unknown. */
export function parseArgs(argv: readonly string[]): EmulatorOptions {
  const options: EmulatorOptions = { port: 8065 };
  const integer = (flag: string, raw: string | undefined, min: number): number => {
    const n = Number(raw);
    if (raw === undefined || raw === "" || !Number.isInteger(n) || n < min) {
      throw new UsageError(`${flag} needs an integer >= ${min}, got ${raw ?? "nothing"}`);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] =
      argv[i].startsWith("--") && argv[i].includes("=")
        ? [argv[i].slice(0, argv[i].indexOf("=")), argv[i].slice(argv[i].indexOf("=") + 1)]
        : [argv[i], undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    const choice = <T extends string>(allowed: readonly T[]): T => {
      const raw = value();
      const found = allowed.find((a) => a === raw);
      if (found === undefined) {
        throw new UsageError(`${flag} needs one of ${allowed.join(", ")}, got ${raw ?? "nothing"}`);
      }
      return found;
    };
    switch (flag) {
      case "--port":
        options.port = integer(flag, value(), 0);
        if (options.port > 65535) throw new UsageError(`--port must be <= 65535`);
        break;
      case "--host": {
        const host = value();
        if (!host) throw new UsageError("--host needs a value");
        options.host = host;
        break;
      }
      case "--users":
        options.users = integer(flag, value(), 0);
        break;
      case "--latency":
        options.latencyMs = integer(flag, value(), 0);
        break;
      case "--base-path":
        options.basePath = value() ?? "";
        break;
      case "--seed":
        options.seed = integer(flag, value(), 0);
        break;
      case "--legacy-no-expiry":
        options.profile = "2025.3";
        break;
      case "--profile": {
        const raw = value();
        if (!isProfileName(raw)) {
          throw new UsageError(
            `--profile needs one of ${PROFILES.join(", ")}, got ${raw ?? "nothing"}`,
          );
        }
        options.profile = raw;
        break;
      }
      case "--delete-answer":
        options.deleteAnswer = choice(["json", "noContent204", "empty200"] as const);
        break;
      case "--default-expiry-vs-caller":
        options.defaultExpiryVsCaller = choice(["refuse", "clip"] as const);
        break;
      case "--expires-precision":
        options.expiresPrecision = choice(["ms", "s", "datetime"] as const);
        break;
      case "--date-header-offset": {
        const raw = value();
        const n = Number(raw);
        if (raw === undefined || raw.trim() === "" || !Number.isInteger(n)) {
          throw new UsageError(
            `${flag} needs an integer (ms, may be negative), got ${raw ?? "nothing"}`,
          );
        }
        options.dateHeaderOffsetMs = n;
        break;
      }
      case "--key-list-order":
        options.keyListOrder = choice(["newestFirst", "oldestFirst", "byId"] as const);
        break;
      case "--key-list-filters":
        options.keyListFilters = choice(["honoured", "ignored"] as const);
        break;
      case "--wrong-owner-answer":
        options.wrongOwnerAnswer = choice(["badRequest", "notFound"] as const);
        break;
      case "--authentication-endpoint":
        options.authenticationEndpoint = choice([
          "anonymous",
          "authenticated",
          "administrators",
          "missing",
        ] as const);
        break;
      case "--no-user-api-keys-setting":
        options.userApiKeysSetting = false;
        break;
      case "--actor-type-on-create":
        options.actorTypeOnCreate = choice(["honoured", "ignored"] as const);
        break;
      case "--error-bodies":
        options.errorBodies = choice(["errors", "helpText"] as const);
        break;
      case "--user-api-keys-disabled":
        options.userApiKeysEnabled = false;
        break;
      case "-h":
      case "--help":
        throw new UsageError("");
      default:
        throw new UsageError(`unknown argument: ${argv[i]}`);
    }
  }
  return options;
}

/**
 * Starts the emulator and prints `OCTOPUS_URL=…` and `OCTOPUS_API_KEY=…` on lines of their own
 * (the administrator's key: the one secret printed, deliberately), then a description of the
 * seeded users. The caller owns the returned emulator and must close it.
 */
export async function main(
  argv: readonly string[],
  print: (line: string) => void = (line) => console.log(line),
): Promise<OctopusEmulator> {
  const options = parseArgs(argv);
  const emulator = await OctopusEmulator.start(options);
  const { admin, serviceAccount, user } = emulator;
  print(`OCTOPUS_URL=${emulator.url}`);
  print(`OCTOPUS_API_KEY=${admin.apiKey}`);
  print(
    `# Octopus Deploy emulator listening on ${emulator.url}, ` +
      `behaving like Octopus ${emulator.rules.name} (version ${emulator.rules.version})`,
  );
  print(`# ${admin.id}  ${admin.username}  administrator; OCTOPUS_API_KEY is its key`);
  print(
    `# ${serviceAccount.id}  ${serviceAccount.username}  service account (IsService); ` +
      `create its keys as admin: POST /api/users/${serviceAccount.id}/apikeys`,
  );
  print(`# ${user.id}  ${user.username}  ordinary user (not an administrator)`);
  if (options.users) print(`# plus ${options.users} filler users named user-00001 and up`);
  print("# Ctrl+C stops it.");
  return emulator;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (emulator) => {
      let stopping = false;
      const stop = (): void => {
        if (stopping) return;
        stopping = true;
        emulator.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    },
    (error: unknown) => {
      if (error instanceof UsageError) {
        if (error.message) console.error(error.message);
        console.error(USAGE);
        process.exit(error.message ? 2 : 0);
      }
      console.error(
        `emulator failed to start: ${error instanceof Error ? error.message : String(error)}`,
      );
      process.exit(1);
    },
  );
}
