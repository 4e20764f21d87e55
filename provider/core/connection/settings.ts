import { Credential, Endpoint, isLoopbackHost, normalizeServerUrl } from "../../octopus/endpoint";
import { OctopusError } from "../../octopus/errors";
import { parseDuration } from "../time";
import { argumentSource, assemble, Assembled, RawSettings } from "./sources";

export interface Problem {
  /** Input property path, e.g. `connection.address`. */
  property: string;
  reason: string;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

/** The longest access token accepted: far beyond a real one, well within a header's limit. */
const MAX_TOKEN = 8_192;

/**
 * Checks an assembled connection (see ./sources); returns the problems, each naming the property
 * and the fix. `isUnknown` tells a value not known yet (preview), which is checked once known.
 */
export function connectionProblems(
  { settings, conflict, where }: Pick<Assembled, "settings" | "conflict" | "where">,
  isUnknown: (v: unknown) => boolean,
): Problem[] {
  const problems: Problem[] = [];
  const { address, apiKey, accessToken, requestTimeout, caCertificate, allowInsecureHttp } =
    settings;

  if (address === undefined) {
    problems.push({
      property: "connection.address",
      reason: `no Octopus server address: set ${either(where.address)}`,
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
        if (!isLoopbackHost(host)) {
          problems.push({
            property: "connection.address",
            reason: `uses plain http:// to a host that is not loopback, which would send the credential unencrypted; use https://, or set ${either(where.allowInsecureHttp.map(optIn))} if you accept that risk`,
          });
        }
      }
    }
  }

  if (conflict) {
    problems.push({ property: "connection", reason: conflict });
  } else if (apiKey === undefined && accessToken === undefined) {
    problems.push({
      property: "connection.apiKey",
      reason: `no credential for Octopus: set ${either(where.credential)}`,
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
        "is not an Octopus API key (they look like API-XXXXXXXX…); copy the whole key, or give a bearer token as the access token instead",
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

/** How to turn a boolean setting on, by its name: an environment variable takes `1`. */
const optIn = (name: string): string =>
  /^[A-Z0-9_]+$/.test(name) ? `${name}=1` : `${name} to true`;

/** "a, b, or c". */
function either(names: string[]): string {
  if (names.length <= 2) return names.join(" or ");
  return `${names.slice(0, -1).join(", ")}, or ${names[names.length - 1]}`;
}

/**
 * The endpoint an assembled connection stands for, or a CONFIGURATION error that says which
 * setting to fix, named by where it came from.
 */
export function resolveEndpoint(assembled: Assembled): Endpoint {
  const { settings, labels } = assembled;
  const problems = connectionProblems(assembled, () => false);
  if (problems.length > 0) {
    const where = (property: string) =>
      property === "connection.address" && settings.address !== undefined
        ? labels.address
        : property === "connection"
          ? "The connection:"
          : property;
    throw new OctopusError(
      "CONFIGURATION",
      problems.map((p) => `${where(p.property)} ${p.reason}`).join("; "),
    );
  }
  const apiKey = settings.apiKey as string | undefined;
  const credential: Credential = apiKey
    ? { kind: "apiKey", value: apiKey }
    : { kind: "accessToken", value: settings.accessToken as string };
  return {
    serverUrl: normalizeServerUrl(settings.address as string).url as string,
    credential,
    timeoutMs: timeoutMs(settings.requestTimeout) ?? DEFAULT_TIMEOUT_MS,
    caCertificate: settings.caCertificate as string | undefined,
    labels,
  };
}

/** The endpoint of settings given whole, as a `connection` argument alone (for tools and tests). */
export function endpointFrom(settings: RawSettings): Endpoint {
  return resolveEndpoint(assemble([argumentSource(settings)]));
}
