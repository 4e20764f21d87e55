import { normalizeServerUrl } from "../../octopus/endpoint";
import { CONNECTION_SETTINGS, SETTING_NAMES, SettingName } from "../fields";

/** Connection settings as found, not yet checked: any value may be of the wrong type. */
export type RawSettings = Partial<Record<SettingName, unknown>>;

/** A place connection settings come from. */
export interface ConnectionSource {
  origin: "argument" | "config" | "environment";
  settings: RawSettings;
  /**
   * How a message names each setting this source can supply (`connection.address`,
   * `stack config octopusdeploy:address`, `OCTOPUS_URL`…); a setting it cannot supply is absent.
   */
  names: Partial<Record<SettingName, string>>;
}

/** The resource's own `connection` input as a source. */
export function argumentSource(settings: RawSettings | null | undefined): ConnectionSource {
  const names: Partial<Record<SettingName, string>> = {};
  for (const field of SETTING_NAMES) names[field] = `connection.${field}`;
  return { origin: "argument", settings: settings ?? {}, names };
}

/** Settings in the environment, under the variable names Octopus tools already use. */
export function environmentSource(env: NodeJS.ProcessEnv = process.env): ConnectionSource {
  const settings: RawSettings = {};
  const names: Partial<Record<SettingName, string>> = {};
  for (const field of SETTING_NAMES) {
    const variables = CONNECTION_SETTINGS[field].env;
    const set = variables.find((name) => env[name]) ?? variables[0];
    names[field] = set;
    const value = env[set] || undefined;
    if (value === undefined) continue;
    settings[field] =
      CONNECTION_SETTINGS[field].type.kind === "boolean"
        ? /^(1|true|yes)$/i.test(value) || undefined
        : value;
  }
  return { origin: "environment", settings, names };
}

/**
 * Settings in a provider's configuration: `get(field)` reads one (undefined when unset), and
 * `name(field)` says how messages name it (`stack config octopusdeploy:address`,
 * `octopusapikey:address`). Only `fields` are read.
 */
export function configSource(
  fields: readonly SettingName[],
  get: (field: SettingName) => unknown,
  name: (field: SettingName) => string,
): ConnectionSource {
  const settings: RawSettings = {};
  const names: Partial<Record<SettingName, string>> = {};
  for (const field of fields) {
    names[field] = name(field);
    const value = get(field);
    if (value !== undefined && value !== null && value !== "") settings[field] = value;
  }
  return { origin: "config", settings, names };
}

/** A connection put together from its sources: one address, one credential, the other settings. */
export interface Assembled {
  settings: RawSettings;
  /** Where the address and the credential came from, for messages. */
  labels: { address: string; credential: string };
  /** Why the only credentials there are may not go to the address; nothing may then be sent. */
  conflict?: string;
  /** How the sources name each setting (and `credential`: either credential), for advice. */
  where: Record<SettingName | "credential", string[]>;
}

const isSet = (value: unknown): boolean => value !== undefined && value !== null && value !== "";
const hasCredential = (source: ConnectionSource): boolean =>
  isSet(source.settings.apiKey) || isSet(source.settings.accessToken);

/**
 * A connection is a unit: a credential goes only where its own source sends it.
 * - The address is the first one set: the argument's, the configuration's, the environment's.
 * - The argument's own credential wins over every other, and is never mixed with them.
 * - Otherwise the first configuration or environment credential that may go to that address:
 *   one whose source names no address (a bare `OCTOPUS_API_KEY`), or names this very server.
 * - Other settings (timeout, certificate, plain http) are taken one by one, first set wins.
 * With no credential allowed while some exist, `conflict` says why and nothing may be sent.
 * `isUnknown` tells a value not known yet (preview), which cannot conflict yet.
 */
export function assemble(
  sources: readonly ConnectionSource[],
  isUnknown: (value: unknown) => boolean = () => false,
): Assembled {
  const settings: RawSettings = {};
  const from: Partial<Record<SettingName, ConnectionSource>> = {};
  for (const field of SETTING_NAMES) {
    if (field === "apiKey" || field === "accessToken") continue;
    const source = sources.find((s) => isSet(s.settings[field]));
    if (source) {
      settings[field] = source.settings[field];
      from[field] = source;
    }
  }
  const address = settings.address;
  const target =
    typeof address === "string" && !isUnknown(address)
      ? normalizeServerUrl(address).url
      : undefined;
  const owner = from.address;

  let conflict: string | undefined;
  let chosen: ConnectionSource | undefined;
  for (const source of sources) {
    if (!hasCredential(source)) continue;
    if (source.origin === "argument") {
      chosen = source;
      break;
    }
    const own = source.settings.address;
    if (source === owner || !isSet(own) || isUnknown(own) || target === undefined) {
      chosen = source;
      break;
    }
    const bound = typeof own === "string" ? (normalizeServerUrl(own).url ?? own) : String(own);
    if (bound === target) {
      chosen = source;
      break;
    }
    conflict ??= `the credential in ${credentialName(source)} goes with the server ${source.names.address} names (${bound}), not with ${target} (from ${owner?.names.address ?? "connection.address"}): a credential is sent only to the server its own settings name, so nothing was sent. Give the connection argument its own apiKey or accessToken for ${target}, or set ${source.names.address} to ${target} together with that server's credential`;
  }
  if (chosen) {
    conflict = undefined;
    const field = isSet(chosen.settings.apiKey) ? "apiKey" : "accessToken";
    settings[field] = chosen.settings[field];
  }
  return {
    settings,
    labels: {
      address: owner?.names.address ?? "connection.address",
      credential: chosen ? credentialName(chosen) : "connection.apiKey",
    },
    ...(conflict ? { conflict } : {}),
    where: {
      ...(Object.fromEntries(SETTING_NAMES.map((f) => [f, names(sources, f)])) as Record<
        SettingName,
        string[]
      >),
      credential: sources.flatMap((s) =>
        [s.names.apiKey, s.names.accessToken].filter((n): n is string => n !== undefined),
      ),
    },
  };
}

function credentialName(source: ConnectionSource): string {
  const field = isSet(source.settings.apiKey) ? "apiKey" : "accessToken";
  return source.names[field] ?? `connection.${field}`;
}

function names(sources: readonly ConnectionSource[], field: SettingName): string[] {
  return sources.map((s) => s.names[field]).filter((n): n is string => n !== undefined);
}
