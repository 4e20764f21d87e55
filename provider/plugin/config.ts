import {
  CONNECTION_FIELDS,
  connectionProblems,
  ConnectionSettings,
  fromEnvironment,
  mergeSources,
} from "../connection";
import type { Problem } from "../connection";
import { isUnknown } from "../inputs";
import { FIELDS_DRAFT } from "./fields-draft";
import { settingsWording } from "./messages";
import { PACKAGE } from "./schema";

/**
 * The provider's configuration: the connection settings `address`, `apiKey`, `accessToken`,
 * `requestTimeout`, `caCertificate` and `allowInsecureHttp`, set as stack config
 * (`octopusapikey:address`) or as an explicit provider's inputs, each falling back to its
 * environment variable. A key's own `connection` input wins over both, field by field: the
 * lifecycle merges them exactly as it merges the dynamic resource's stack config.
 */

type Props = Record<string, unknown>;
type Setting = keyof ConnectionSettings;

/** How a setting is named in stack config and in messages: `octopusapikey:address`. */
export const settingName = (field: string): string => `${PACKAGE}:${field}`;

/** Configure's `variables` (older engines) are keyed `octopusapikey:config:address`. */
const VARIABLE_PREFIX = `${PACKAGE}:config:`;

/** Keys the engine puts in a provider's inputs that are not settings (pulumi/pulumi providers/registry.go). */
const ENGINE_KEYS = new Set(["version", "pluginDownloadURL"]);
const isEngineKey = (key: string): boolean => ENGINE_KEYS.has(key) || key.startsWith("__");

/**
 * A setting as the lifecycle takes it. Stack config brings strings: `allowInsecureHttp` reads
 * `true`/`false` (and `1`/`0`, `yes`/`no`, as `OCTOPUS_ALLOW_INSECURE_HTTP` does); anything else
 * stays as given, for the connection checks to refuse with their own message.
 */
function coerce(field: Setting, value: unknown): unknown {
  if (value === null || value === "") return undefined;
  if (field === "allowInsecureHttp" && typeof value === "string" && !isUnknown(value)) {
    if (/^(1|true|yes)$/i.test(value)) return true;
    if (/^(0|false|no)$/i.test(value)) return false;
  }
  return value;
}

/** The settings in a provider configuration given by name (Configure's args, CheckConfig's news). */
export function settingsFrom(props: Props): ConnectionSettings {
  const settings: Props = {};
  for (const field of CONNECTION_FIELDS) {
    const value = coerce(field, props[field]);
    if (value !== undefined) settings[field] = value;
  }
  return settings as ConnectionSettings;
}

/**
 * Configure's settings: `args` by name (plain: secrets unwrapped), else the `variables` that
 * older engines send (`octopusapikey:config:address`; non-strings as JSON text, which reads the
 * same way here).
 */
export function fromConfigure(
  args: Props,
  variables: ReadonlyMap<string, string>,
): ConnectionSettings {
  const given: Props = {};
  for (const field of CONNECTION_FIELDS) {
    given[field] = args[field] ?? variables.get(VARIABLE_PREFIX + field);
  }
  return settingsFrom(given);
}

/** The environment variable a setting was read from, if any. */
function environmentName(field: Setting, env: NodeJS.ProcessEnv): string | undefined {
  return FIELDS_DRAFT.config[field]?.env?.find((name) => env[name]);
}

/**
 * Every problem with a provider configuration (CheckConfig's news, plain), before anything is
 * sent: settings this package does not have, and each set value the connection checks refuse,
 * merged with the environment as every call will merge them. The problem names the setting where
 * the value came from (`octopusapikey:address` or `OCTOPUS_URL`) and the fix. A missing address
 * or credential is no problem here: each key may bring its own `connection`; a key that needs
 * the provider's is refused at its own check.
 */
export function configProblems(news: Props, env: NodeJS.ProcessEnv = process.env): Problem[] {
  const failures: Problem[] = [];
  const known = CONNECTION_FIELDS.map(settingName).join(", ");
  for (const key of Object.keys(news)) {
    if (isEngineKey(key) || (CONNECTION_FIELDS as readonly string[]).includes(key)) continue;
    failures.push({
      property: key,
      reason: `${settingName(key)} is not a setting of ${PACKAGE}; remove it (settings: ${known})`,
    });
  }

  const settings = settingsFrom(news);
  const merged = mergeSources(settings, fromEnvironment(env));
  for (const problem of connectionProblems(merged, isUnknown)) {
    const field = problem.property.replace(/^connection\./, "") as Setting;
    const missingAddress = field === "address" && merged.address === undefined;
    const missingCredential =
      field === "apiKey" && merged.apiKey === undefined && merged.accessToken === undefined;
    if (missingAddress || missingCredential) continue;
    const fromConfig = settings[field] !== undefined;
    const where = fromConfig
      ? settingName(field)
      : (environmentName(field, env) ?? settingName(field));
    failures.push({
      // A setting of the provider is a property; an environment variable is not.
      property: fromConfig ? field : "",
      reason: settingsWording(`${where} ${problem.reason}`),
    });
  }
  return failures;
}

/** The settings whose values differ between two configurations (plain), for DiffConfig. */
export function changedSettings(olds: Props, news: Props): string[] {
  const before = settingsFrom(olds);
  const after = settingsFrom(news);
  return CONNECTION_FIELDS.filter(
    (field) => JSON.stringify(before[field] ?? null) !== JSON.stringify(after[field] ?? null),
  );
}
