import * as dns from "node:dns";
import * as net from "node:net";
import { controlProblem } from "./text";

/**
 * A server to talk to, as the client needs it: the normalised address, the credential, and how
 * to reach it. What an address is (normalised, loopback or not) is decided here, once.
 */

export type Credential = { kind: "apiKey" | "accessToken"; value: string };

/** Where the address and the credential came from, for messages (`OCTOPUS_URL`, `connection.address`…). */
export interface EndpointLabels {
  address: string;
  credential: string;
}

/** A connection with every field resolved and checked; what the HTTP client is built from. */
export interface Endpoint {
  /** Normalised server URL: lower-case host, no trailing slash, path prefix kept. */
  serverUrl: string;
  credential: Credential;
  timeoutMs: number;
  caCertificate: string | undefined;
  /** Where the address and the credential came from, for messages. */
  labels?: EndpointLabels;
}

/** The longest server address accepted: a URL, not a document. */
const MAX_ADDRESS = 2_048;

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
  const control = controlProblem(address.trim());
  if (control) return { reason: control };
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

/**
 * Names that always mean this machine: `localhost` and every name under it (`api.localhost`),
 * with or without the final dot of a fully qualified name (`localhost.`), as RFC 6761 §6.3
 * reserves them.
 */
const LOOPBACK_NAME = /^(?:[^.]+\.)*localhost\.?$/i;

/**
 * Loopback addresses as `URL.hostname` writes them: 127.0.0.0/8, `[::1]`, and 127.0.0.0/8 mapped
 * into IPv6 (`[::ffff:127.0.0.1]`, which URL writes `[::ffff:7f00:1]`).
 */
const LOOPBACK_ADDRESS =
  /^(?:127(?:\.\d{1,3}){3}|\[::1\]|\[::ffff:(?:7f[0-9a-f]{2}:[0-9a-f]{1,4}|127(?:\.\d{1,3}){3})\])$/i;

/**
 * True when `hostname` (as `URL.hostname` gives it) is this machine's loopback interface: the one
 * rule for both plain http (allowed only there) and proxies (never used there). A loopback name
 * is resolved to this machine by {@link loopbackLookup}, never by DNS, so that what this rule
 * calls local is.
 */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_NAME.test(hostname) || LOOPBACK_ADDRESS.test(hostname);
}

/** Whether `address` (as a resolver gives it, without brackets) is a loopback address. */
function isLoopbackAddress(address: string): boolean {
  return LOOPBACK_ADDRESS.test(net.isIPv6(address) ? `[${address}]` : address);
}

/**
 * A socket's `lookup` (net.connect's option) that resolves every loopback name (`localhost`,
 * `localhost.`, `api.localhost`) as this machine resolves `localhost`, keeping only loopback
 * addresses (127.0.0.1 or ::1 when it gives none), as RFC 6761 asks of resolvers: most machines
 * list only `localhost` in their hosts file, and a DNS server must never decide where a request
 * goes that the plain-http and proxy rules treat as local. Every other name resolves as usual.
 */
export const loopbackLookup: net.LookupFunction = (hostname, options, callback) => {
  if (!LOOPBACK_NAME.test(hostname)) {
    dns.lookup(hostname, options, callback);
    return;
  }
  dns.lookup("localhost", { all: true }, (error, found) => {
    const family = options.family === "IPv4" ? 4 : options.family === "IPv6" ? 6 : options.family;
    let addresses = (error ? [] : found).filter((a) => isLoopbackAddress(a.address));
    if (family === 4 || family === 6) addresses = addresses.filter((a) => a.family === family);
    if (addresses.length === 0) {
      addresses = [
        family === 6 ? { address: "::1", family: 6 } : { address: "127.0.0.1", family: 4 },
      ];
    }
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0].address, addresses[0].family);
  });
};
