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

/** Host names that always mean this machine: `localhost`, 127.0.0.0/8 and `[::1]`. */
const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/**
 * True when `hostname` (as `URL.hostname` gives it) is this machine's loopback interface: the one
 * rule for both plain http (allowed only there) and proxies (never used there).
 */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.test(hostname);
}
