import { isUnknown } from "../core/check";
import { connectionProblems, Problem } from "../core/connection/settings";
import {
  assemble,
  configSource,
  ConnectionSource,
  environmentSource,
  RawSettings,
} from "../core/connection/sources";
import { SETTING_NAMES, SettingName } from "../core/fields";
import { PACKAGE } from "./schema";

/**
 * The provider's configuration: the connection settings (`address`, `apiKey`, `accessToken`,
 * `requestTimeout`, `caCertificate`, `allowInsecureHttp`), set as stack config
 * (`octopusapikey:address`) or as an explicit provider's inputs, before the environment. To the
 * core they are one connection source, named as the user sets them: a credential in it goes only
 * to the address beside it, and a key's own `connection` input wins (../core/connection/sources).
 */

type Props = Record<string, unknown>;

/** How a setting is named in stack config and in messages: `octopusapikey:address`. */
export const settingName = (field: string): string => `${PACKAGE}:${field}`;

/** Configure's `variables` (older engines) are keyed `octopusapikey:config:address`. */
const VARIABLE_PREFIX = `${PACKAGE}:config:`;

/** Keys the engine puts in a provider's inputs that are not settings (pulumi/pulumi providers/registry.go). */
const ENGINE_KEYS = new Set(["version", "pluginDownloadURL"]);
const isEngineKey = (key: string): boolean => ENGINE_KEYS.has(key) || key.startsWith("__");

/**
 * A setting as the core takes it. Stack config brings strings: `allowInsecureHttp` reads
 * `true`/`false` (and `1`/`0`, `yes`/`no`, as `OCTOPUS_ALLOW_INSECURE_HTTP` does); anything else
 * stays as given, for the connection checks to refuse with their own message.
 */
function coerce(field: SettingName, value: unknown): unknown {
  if (value === null || value === "") return undefined;
  if (field === "allowInsecureHttp" && typeof value === "string" && !isUnknown(value)) {
    if (/^(1|true|yes)$/i.test(value)) return true;
    if (/^(0|false|no)$/i.test(value)) return false;
  }
  return value;
}

/** The settings in a provider configuration given by name (Configure's args, CheckConfig's news). */
export function pluginConfig(props: Props): ConnectionSource {
  return configSource(SETTING_NAMES, (field) => coerce(field, props[field]), settingName);
}

/**
 * Configure's settings: `args` by name (plain: secrets unwrapped), else the `variables` that
 * older engines send (`octopusapikey:config:address`; non-strings as JSON text, which reads the
 * same way here).
 */
export function fromConfigure(
  args: Props,
  variables: ReadonlyMap<string, string>,
): ConnectionSource {
  const given: Props = {};
  for (const field of SETTING_NAMES)
    given[field] = args[field] ?? variables.get(VARIABLE_PREFIX + field);
  return pluginConfig(given);
}

/**
 * Every problem with a provider configuration (CheckConfig's news, plain), before anything is
 * sent: settings this package does not have, and each value the connection checks refuse, with
 * the environment as every call will take it. A problem names the setting where the value came
 * from (`octopusapikey:address` or `OCTOPUS_URL`) and the fix. A missing address or credential
 * is no problem here: each key may bring its own `connection`; a key that needs the provider's
 * is refused at its own check.
 */
export function configProblems(news: Props, env: NodeJS.ProcessEnv = process.env): Problem[] {
  const failures: Problem[] = [];
  const known = SETTING_NAMES.map(settingName).join(", ");
  for (const key of Object.keys(news)) {
    if (isEngineKey(key) || (SETTING_NAMES as readonly string[]).includes(key)) continue;
    failures.push({
      property: key,
      reason: `${settingName(key)} is not a setting of ${PACKAGE}; remove it (settings: ${known})`,
    });
  }
  const config = pluginConfig(news);
  const environment = environmentSource(env);
  const assembled = assemble([config, environment], isUnknown);
  const { settings } = assembled;
  for (const problem of connectionProblems(assembled, isUnknown)) {
    const field = problem.property.replace(/^connection\.?/, "") as SettingName | "";
    if (field === "address" && settings.address === undefined) continue;
    if (field === "apiKey" && settings.apiKey === undefined && settings.accessToken === undefined) {
      continue;
    }
    if (field === "") {
      failures.push({ property: "", reason: problem.reason });
      continue;
    }
    const fromConfig = config.settings[field] !== undefined;
    const where = fromConfig
      ? settingName(field)
      : (environment.names[field] ?? settingName(field));
    // A setting of the provider is a property; an environment variable is not.
    failures.push({ property: fromConfig ? field : "", reason: `${where} ${problem.reason}` });
  }
  return failures;
}

/** The settings whose values differ between two configurations (plain), for DiffConfig. */
export function changedSettings(olds: Props, news: Props): string[] {
  const before: RawSettings = pluginConfig(olds).settings;
  const after: RawSettings = pluginConfig(news).settings;
  return SETTING_NAMES.filter(
    (field) => JSON.stringify(before[field] ?? null) !== JSON.stringify(after[field] ?? null),
  );
}
