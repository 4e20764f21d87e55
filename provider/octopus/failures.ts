import http from "node:http";
import { OctopusError, OctopusErrorCode } from "./errors";
import { Answer, Exchange, markTransient, withoutCredentials } from "./transport";

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

/** Server text fit for a message: control characters (terminal escapes) become spaces; bounded. */
function serverText(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const clean = value.replace(/\p{Cc}+/gu, " ").trim();
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
