import { OctopusError } from "../../octopus/errors";
import { parseDuration } from "../time";

/** How to reach Octopus, as given in the resource's `connection` argument (all optional). */
export interface ConnectionSettings {
  address?: string;
  apiKey?: string;
  accessToken?: string;
  requestTimeout?: string | number;
  caCertificate?: string;
  allowInsecureHttp?: boolean;
}

export const CONNECTION_FIELDS: ReadonlyArray<keyof ConnectionSettings> = [
  "address",
  "apiKey",
  "accessToken",
  "requestTimeout",
  "caCertificate",
  "allowInsecureHttp",
];

/** Stack config keys shared with the Pulumi `octopusdeploy` package. */
export const CONFIG_KEYS = {
  address: "octopusdeploy:address",
  apiKey: "octopusdeploy:apiKey",
  accessToken: "octopusdeploy:accessToken",
} as const;

export type Credential = { kind: "apiKey" | "accessToken"; value: string };

/** A connection with every field resolved and checked; what the HTTP client is built from. */
export interface ResolvedConnection {
  /** Normalised server URL: lower-case host, no trailing slash, path prefix kept. */
  serverUrl: string;
  credential: Credential;
  timeoutMs: number;
  caCertificate: string | undefined;
  /** Where the address and the credential came from, for messages: `connection.address`, `stack config octopusdeploy:address`, `OCTOPUS_URL`… */
  sources?: ConnectionSources;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

/** One source of connection fields: the argument, stack config, or the environment. */
type Source = Partial<Record<keyof ConnectionSettings, unknown>>;

/** Connection fields found in stack config (set by the provider's `configure`). */
export function fromConfig(get: (key: string) => string | undefined): ConnectionSettings {
  return {
    address: get(CONFIG_KEYS.address) || undefined,
    apiKey: get(CONFIG_KEYS.apiKey) || undefined,
    accessToken: get(CONFIG_KEYS.accessToken) || undefined,
  };
}

/** Connection fields found in the environment, under the names Octopus tools already use. */
export function fromEnvironment(env: NodeJS.ProcessEnv = process.env): ConnectionSettings {
  return {
    address: env.OCTOPUS_URL || undefined,
    apiKey: env.OCTOPUS_API_KEY || env.OCTOPUS_APIKEY || undefined,
    accessToken: env.OCTOPUS_ACCESS_TOKEN || undefined,
    requestTimeout: env.OCTOPUS_REQUEST_TIMEOUT || undefined,
    caCertificate: env.OCTOPUS_CA_CERTIFICATE || undefined,
    allowInsecureHttp: /^(1|true|yes)$/i.test(env.OCTOPUS_ALLOW_INSECURE_HTTP ?? "") || undefined,
  };
}

/** Each field from the first source that sets it: argument, then config, then environment. */
export function mergeSources(...sources: Array<Source | undefined>): Source {
  return mergeLabelled(sources).merged;
}

/** Where each connection field can come from, in order of precedence. */
const ORIGINS = ["argument", "config", "environment"] as const;

/**
 * {@link mergeSources}, also naming where the address and the credential came from, for
 * messages. `sources` are the argument, stack config and the environment, in that order.
 */
export function mergeLabelled(
  sources: Array<Source | undefined>,
  env: NodeJS.ProcessEnv = process.env,
): { merged: Source; sources: ConnectionSources } {
  const merged: Source = {};
  const from: Partial<Record<keyof ConnectionSettings, number>> = {};
  for (const field of CONNECTION_FIELDS) {
    for (const [index, source] of sources.entries()) {
      const value = source?.[field];
      if (value !== undefined && value !== null && value !== "") {
        merged[field] = value;
        from[field] = index;
        break;
      }
    }
  }
  const credentialField = merged.apiKey !== undefined ? "apiKey" : "accessToken";
  return {
    merged,
    sources: {
      address: label("address", from.address, env),
      credential: label(credentialField, from[credentialField], env),
    },
  };
}

/** Human labels for where the address and the credential of a connection came from. */
export interface ConnectionSources {
  address: string;
  credential: string;
}

function label(
  field: "address" | "apiKey" | "accessToken",
  index: number | undefined,
  env: NodeJS.ProcessEnv,
): string {
  switch (ORIGINS[index ?? 0]) {
    case "config":
      return `stack config ${CONFIG_KEYS[field]}`;
    case "environment":
      if (field === "address") return "OCTOPUS_URL";
      if (field === "accessToken") return "OCTOPUS_ACCESS_TOKEN";
      return env.OCTOPUS_API_KEY ? "OCTOPUS_API_KEY" : "OCTOPUS_APIKEY";
    default:
      return `connection.${field}`;
  }
}

export interface Problem {
  /** Input property path, e.g. `connection.address`. */
  property: string;
  reason: string;
}

const SOURCES_HINT = {
  address: "set connection.address, stack config `octopusdeploy:address`, or OCTOPUS_URL",
  credential:
    "set connection.apiKey or connection.accessToken, stack config `octopusdeploy:apiKey`, or OCTOPUS_API_KEY / OCTOPUS_ACCESS_TOKEN",
};

/** The longest server address accepted: a URL, not a document. */
const MAX_ADDRESS = 2_048;
/** The longest access token accepted: far beyond a real one, well within a header's limit. */
const MAX_TOKEN = 8_192;

/**
 * Normalises a server address to the form that identifies a server: `URL` lower-cases the host and
 * drops default ports; trailing slashes go, a path prefix (`https://host/octopus`) stays. The API
 * root pasted as the address (`https://host/api`) means the server itself, as Octopus.Client and
 * the TypeScript client read it: every request path already starts with `/api`.
 */
export function normalizeServerUrl(address: string): { url?: string; reason?: string } {
  if (address.length > MAX_ADDRESS) {
    return { reason: `is ${address.length} characters long; the limit is ${MAX_ADDRESS}` };
  }
  // URL would silently drop tabs and line breaks inside the address.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(address.trim())) {
    return { reason: "must not contain control characters such as line breaks or tabs" };
  }
  let parsed: URL;
  try {
    parsed = new URL(address.trim());
  } catch {
    return { reason: "is not a valid URL; use the form https://octopus.example.com" };
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    return {
      reason: `uses ${parsed.protocol.replace(/:$/, "")}:; only http and https are supported`,
    };
  }
  if (parsed.username || parsed.password) {
    return {
      reason:
        "must not embed credentials (user:password@); pass the API key in connection.apiKey instead",
    };
  }
  if (parsed.search || parsed.hash) {
    return { reason: "must not have a query string or fragment; give the server's base URL" };
  }
  const path = parsed.pathname.replace(/\/+$/, "").replace(/\/api$/i, "");
  return { url: `${parsed.protocol}//${parsed.host}${path}` };
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/** Checks merged connection fields; returns the problems, each naming the property and the fix. */
export function connectionProblems(merged: Source, isUnknown: (v: unknown) => boolean): Problem[] {
  const problems: Problem[] = [];
  const { address, apiKey, accessToken, requestTimeout, caCertificate, allowInsecureHttp } = merged;

  if (address === undefined) {
    problems.push({
      property: "connection.address",
      reason: `no Octopus server address: ${SOURCES_HINT.address}`,
    });
  } else if (!isUnknown(address)) {
    if (typeof address !== "string") {
      problems.push({ property: "connection.address", reason: "must be a string URL" });
    } else {
      const { url, reason } = normalizeServerUrl(address);
      if (reason) {
        problems.push({ property: "connection.address", reason: `${reason}` });
      } else if (url && url.startsWith("http://") && allowInsecureHttp !== true) {
        const host = new URL(url).hostname;
        if (!LOOPBACK.test(host)) {
          problems.push({
            property: "connection.address",
            reason:
              "uses plain http:// to a host that is not loopback, which would send the API key unencrypted; use https://, or set connection.allowInsecureHttp (or OCTOPUS_ALLOW_INSECURE_HTTP=1) if you accept that risk",
          });
        }
      }
    }
  }

  if (apiKey === undefined && accessToken === undefined) {
    problems.push({
      property: "connection.apiKey",
      reason: `no credential for Octopus: ${SOURCES_HINT.credential}`,
    });
  }
  for (const [field, value] of [
    ["apiKey", apiKey],
    ["accessToken", accessToken],
    ["caCertificate", caCertificate],
  ] as const) {
    if (value !== undefined && !isUnknown(value) && typeof value !== "string") {
      problems.push({ property: `connection.${field}`, reason: "must be a string" });
    }
  }
  if (
    typeof apiKey === "string" &&
    !isUnknown(apiKey) &&
    !/^API-[A-Za-z0-9]{1,252}$/.test(apiKey)
  ) {
    problems.push({
      property: "connection.apiKey",
      reason:
        "is not an Octopus API key (they look like API-XXXXXXXX…); copy the whole key, or use connection.accessToken for a bearer token",
    });
  }
  if (
    typeof accessToken === "string" &&
    !isUnknown(accessToken) &&
    !/^[\x21-\x7e]+$/.test(accessToken)
  ) {
    problems.push({
      property: "connection.accessToken",
      reason:
        "must be the token alone, without spaces, line breaks or other characters that cannot be sent in an HTTP header",
    });
  } else if (typeof accessToken === "string" && accessToken.length > MAX_TOKEN) {
    problems.push({
      property: "connection.accessToken",
      reason: `is ${accessToken.length} characters long; the limit is ${MAX_TOKEN}`,
    });
  }
  if (
    typeof caCertificate === "string" &&
    !isUnknown(caCertificate) &&
    !caCertificate.includes("-----BEGIN CERTIFICATE-----")
  ) {
    problems.push({
      property: "connection.caCertificate",
      reason:
        "must be the PEM text of the certificate (-----BEGIN CERTIFICATE----- …), not a file name; read the file into the value, or set NODE_EXTRA_CA_CERTS to its path",
    });
  }
  if (requestTimeout !== undefined && !isUnknown(requestTimeout)) {
    if (timeoutMs(requestTimeout) === undefined) {
      problems.push({
        property: "connection.requestTimeout",
        reason: "must be a positive number of milliseconds or a duration such as 30s or 2m",
      });
    }
  }
  if (
    allowInsecureHttp !== undefined &&
    !isUnknown(allowInsecureHttp) &&
    typeof allowInsecureHttp !== "boolean"
  ) {
    problems.push({ property: "connection.allowInsecureHttp", reason: "must be true or false" });
  }
  return problems;
}

function timeoutMs(value: unknown): number | undefined {
  if (typeof value === "number") {
    return Number.isFinite(value) && value > 0 && value <= 3_600_000 ? value : undefined;
  }
  if (typeof value === "string") {
    if (/^\d+$/.test(value)) return timeoutMs(Number(value));
    const ms = parseDuration(value);
    return ms !== undefined && ms <= 3_600_000 ? ms : undefined;
  }
  return undefined;
}

/**
 * Resolves the connection used for a call, or throws a CONFIGURATION error that says which setting
 * to fix, named by where it came from (`sources`, when known).
 */
export function resolveConnection(merged: Source, sources?: ConnectionSources): ResolvedConnection {
  const problems = connectionProblems(merged, () => false);
  if (problems.length > 0) {
    const where = (property: string) =>
      property === "connection.address" && sources && merged.address !== undefined
        ? sources.address
        : property;
    throw new OctopusError(
      "CONFIGURATION",
      problems.map((p) => `${where(p.property)} ${p.reason}`).join("; "),
    );
  }
  const apiKey = merged.apiKey as string | undefined;
  const credential: Credential = apiKey
    ? { kind: "apiKey", value: apiKey }
    : { kind: "accessToken", value: merged.accessToken as string };
  return {
    serverUrl: normalizeServerUrl(merged.address as string).url as string,
    credential,
    timeoutMs: timeoutMs(merged.requestTimeout) ?? DEFAULT_TIMEOUT_MS,
    caCertificate: merged.caCertificate as string | undefined,
    ...(sources ? { sources } : {}),
  };
}
