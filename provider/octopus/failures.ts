import http from "node:http";
import type { RequestError } from "got" with { "resolution-mode": "import" };
import { OctopusError, OctopusErrorCode } from "./errors";
import { flattenControls } from "./text";
import type { Answer, Exchange } from "./exchange";

/**
 * Every OctopusError made from talking to a server: a transport failure (got's or Node's error,
 * cleaned of credentials), an answer with a status other than 2xx (Octopus's error body read, its
 * stack trace left out), and an answer that is not what Octopus sends. Whether a failure is
 * transient (worth another attempt, or a reconciliation for a create) is recorded here too.
 */

/** Transport failures that happen before a request can reach the server. */
export const NOT_SENT_CODES = new Set([
  "ECONNREFUSED",
  // Node 24 reports a retried connection to a refusing host this way: it never connected.
  "ERR_SOCKET_CLOSED_BEFORE_CONNECTION",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/**
 * Failures after which a request may be retried (idempotent ones) or reconciled (a create), and
 * whether the request never left this machine.
 */
const transient = new WeakMap<OctopusError, { neverSent: boolean }>();

/** True when `error` is transient: an idempotent request may be retried, a POST reconciled. */
export function isTransient(error: unknown): boolean {
  return error instanceof OctopusError && transient.has(error);
}

/** True when the request failed before reaching the server (refused connection, unknown host). */
export function neverSent(error: unknown): boolean {
  return error instanceof OctopusError && transient.get(error)?.neverSent === true;
}

/** Marks `error` as transient (see {@link isTransient}). */
export function markTransient(error: OctopusError, neverSent = false): OctopusError {
  transient.set(error, { neverSent });
  return error;
}

const STATUS_CODES: Record<number, OctopusErrorCode> = {
  400: "VALIDATION",
  401: "UNAUTHENTICATED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  429: "RATE_LIMITED",
};

/** Statuses the transport retries for idempotent requests (and the provider may reconcile). */
const TRANSIENT_STATUS = new Set([429, 502, 503, 504]);

/** Bounds on what of an error body reaches a message: a hostile server can send megabytes. */
const MAX_TEXT = 1_000;
const MAX_ERRORS = 20;

/**
 * Server text fit for a message: control and bidirectional formatting characters (terminal
 * escapes, line breaks, overrides) become spaces; bounded.
 */
function serverText(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const clean = flattenControls(value).trim();
  if (!clean) return undefined;
  return clean.length > MAX_TEXT ? `${clean.slice(0, MAX_TEXT)}…` : clean;
}

/**
 * An answer with a status other than 2xx as an {@link OctopusError}: Octopus's own words
 * (`ErrorMessage`, `Errors`, `HelpText`) in the message. `FullException` (a server stack trace)
 * and `Details` (exception details) never are: they describe the server's internals, not what to
 * do.
 */
export function statusError(
  answer: Answer,
  { method, path, where, address }: Exchange,
): OctopusError {
  const { status } = answer;
  if (status >= 300 && status < 400) {
    const location = String(answer.headers.location ?? "");
    return new OctopusError(
      "HTTP_ERROR",
      `Octopus answered ${method} ${where} with a redirect (${status}) to ${location ? withoutCredentials(location, where) : "nowhere"}; set ${address} to the server's final URL (redirects are not followed, so that credentials never leave for another address)`,
      { status, method, path },
    );
  }
  const octopus = (answer.body && typeof answer.body === "object" ? answer.body : {}) as {
    ErrorMessage?: unknown;
    Errors?: unknown;
    HelpText?: unknown;
  };
  const errors = Array.isArray(octopus.Errors)
    ? octopus.Errors.slice(0, MAX_ERRORS)
        .map(serverText)
        .filter((e): e is string => e !== undefined)
    : [];
  const summary = serverText(octopus.ErrorMessage);
  const helpText = serverText(octopus.HelpText);
  const said = [summary, ...errors.filter((e) => e !== summary), helpText]
    .filter(Boolean)
    .join(" ");
  const code = STATUS_CODES[status] ?? (status >= 500 ? "SERVER_ERROR" : "HTTP_ERROR");
  const error = new OctopusError(
    code,
    `Octopus answered ${method} ${where} with ${status} ${http.STATUS_CODES[status] ?? ""}`.trimEnd() +
      (said ? `: ${said}` : ""),
    { status, method, path, errors, helpText },
  );
  return TRANSIENT_STATUS.has(status) ? markTransient(error) : error;
}

/** The BAD_RESPONSE for an answer whose `what` is not as Octopus sends it. */
export function badAnswer(
  { method, path, where, address }: Exchange,
  what: string,
  status?: number,
): OctopusError {
  return new OctopusError(
    "BAD_RESPONSE",
    `Octopus answered ${method} ${where}${status ? ` with ${status}` : ""} but ${what}; this is not what Octopus sends — check that ${address} points at the Octopus server itself, not a proxy, a login page or another service`,
    { status, method, path },
  );
}

export function tooLarge(
  { method, path, where, address }: Exchange,
  limitBytes: number,
): OctopusError {
  return new OctopusError(
    "BAD_RESPONSE",
    `Octopus's answer to ${method} ${where} is larger than ${limitBytes / 1024 / 1024} MiB (after decompression), far beyond any answer Octopus sends; reading stopped there. Check that ${address} points at the Octopus server itself, not a proxy or another service`,
    { method, path },
  );
}

/**
 * Text from got or Node.js, fit for a message: URLs keep no query string or user info (a query
 * holds a username filter, a URL may hold credentials), control and bidirectional formatting
 * characters become spaces, and the length is bounded.
 */
export function safeText(text: string): string {
  const withoutQueries = text
    .replace(/[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]*/gi, (url) => {
      try {
        const parsed = new URL(url);
        return `${parsed.origin}${parsed.pathname}`;
      } catch {
        return "(a URL)";
      }
    })
    .replace(/\?[^\s"'<>]*/g, "");
  return flattenControls(withoutQueries).slice(0, 300);
}

/** Certificate problems: retrying cannot help, configuration can. */
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/;
/** A TLS handshake that failed for another reason (wrong port or scheme, no common protocol). */
const HANDSHAKE_CODES = /^(EPROTO|ERR_SSL_)/;
/** A compressed answer that would not decompress. */
const DECOMPRESSION_CODES = /^(Z_|ERR_ZLIB|ERR__ERROR|ERR_BROTLI|ERR_ZSTD)/;

/**
 * A transport failure as an {@link OctopusError}. got's own error carries the request options,
 * headers (credentials) included: only its code and a cleaned-up message are kept.
 */
export function transportError(
  error: RequestError,
  { method, path, where, address }: Exchange,
  { proxy, timeoutMs }: { proxy: string | undefined; timeoutMs: number },
): OctopusError {
  const code = typeof error.code === "string" ? error.code : "";
  if (TLS_CODES.test(code)) return tlsError(code, { method, path, where, address });
  const through = proxy
    ? ` (through the proxy ${withoutCredentials(proxy)} set by HTTPS_PROXY/HTTP_PROXY/ALL_PROXY; list the server in NO_PROXY to bypass it)`
    : "";
  if (HANDSHAKE_CODES.test(code)) {
    const reason = (error.cause as { reason?: unknown } | undefined)?.reason;
    return new OctopusError(
      "NETWORK",
      `The TLS handshake for ${method} ${where} failed${through} (${code}${typeof reason === "string" ? `: ${safeText(reason)}` : ""}); check the scheme and port in ${address} (https:// to a server that speaks plain http fails this way)`,
      { method, path },
    );
  }
  if (DECOMPRESSION_CODES.test(code)) {
    return new OctopusError(
      "BAD_RESPONSE",
      `Octopus's answer to ${method} ${where} is compressed data that does not decompress (${code}); check that ${address} points at the Octopus server itself, not a proxy or another service`,
      { method, path },
    );
  }
  if (error.name === "TimeoutError" || code === "ETIMEDOUT") {
    return markTransient(
      new OctopusError(
        "TIMEOUT",
        `Octopus did not answer ${method} ${where} within ${timeoutMs} ms${through}; check the server's health, or raise connection.requestTimeout (OCTOPUS_REQUEST_TIMEOUT)`,
        { method, path },
      ),
    );
  }
  const refused = NOT_SENT_CODES.has(code);
  return markTransient(
    new OctopusError(
      "NETWORK",
      `Could not complete ${method} ${where}${through}: ${safeText(error.message)}${code && !error.message.includes(code) ? ` (${code})` : ""}; check ${address} and that the server is reachable from this machine`,
      { method, path },
    ),
    refused,
  );
}

function tlsError(code: string, { method, path, where, address }: Exchange): OctopusError {
  const advice =
    code === "ERR_TLS_CERT_ALTNAME_INVALID"
      ? `the certificate does not name ${new URL(where).hostname}; set ${address} to a host name the certificate lists`
      : "if the server uses a private certificate authority, give its PEM certificate in connection.caCertificate (or OCTOPUS_CA_CERTIFICATE), or set NODE_EXTRA_CA_CERTS to its file";
  return new OctopusError(
    "NETWORK",
    `Could not verify the TLS certificate of ${where} (${code}) for ${method}; ${advice}`,
    { method, path },
  );
}

/** `url` without user info, query or fragment; for messages. */
export function withoutCredentials(url: string, base?: string): string {
  try {
    const parsed = new URL(url, base);
    parsed.username = "";
    parsed.password = "";
    parsed.search = "";
    parsed.hash = "";
    return parsed.toString();
  } catch {
    return "(unparsable URL)";
  }
}
