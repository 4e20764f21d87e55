import { redact } from "./redaction";

/**
 * Stable, machine-readable reasons a call failed. They are part of the public API: match on
 * `error.code`, never on the message text.
 */
export type OctopusErrorCode =
  /** Octopus refused the request as invalid (400), e.g. an expiry it does not accept. */
  | "VALIDATION"
  /** The credentials were missing, wrong, expired or belong to a disabled user (401). */
  | "UNAUTHENTICATED"
  /** The credentials are valid but lack a permission (403). */
  | "FORBIDDEN"
  /** The user or key does not exist (404). */
  | "NOT_FOUND"
  /** No user has the requested username. */
  | "USER_NOT_FOUND"
  /** More than one user could be the one a username names; the message lists them. */
  | "AMBIGUOUS_USER"
  /** Octopus reported a conflict (409). */
  | "CONFLICT"
  /** Octopus kept answering 429 until the retry budget ran out. */
  | "RATE_LIMITED"
  /** Octopus (or a proxy in front of it) answered with a 5xx status. */
  | "SERVER_ERROR"
  /** Any other unexpected status. */
  | "HTTP_ERROR"
  /** The server could not be reached or the connection broke. */
  | "NETWORK"
  /** No answer within the request timeout. */
  | "TIMEOUT"
  /**
   * The server answered with something that is not what Octopus sends (HTML, invalid JSON,
   * missing or mistyped fields, an answer over the size limit, paging that never ends).
   */
  | "BAD_RESPONSE"
  /** A create may or may not have taken effect; see the message for what was done about it. */
  | "UNKNOWN_OUTCOME"
  /** The connection settings are unusable (no address, no credential, refused transport). */
  | "CONFIGURATION"
  /** The server's Octopus version lacks what the inputs ask for (`accessLevel: "ReadOnly"` before 2026.3). */
  | "UNSUPPORTED"
  /** A failure inside this package that none of the above describes (a bug: please report it). */
  | "INTERNAL";

export interface OctopusErrorDetails {
  /** HTTP status of the answer, when there was one. */
  status?: number;
  /** HTTP method of the failed request. */
  method?: string;
  /** Path of the failed request (no query string, never credentials). */
  path?: string;
  /** The reasons Octopus listed in its error body (`Errors`). */
  errors?: string[];
  /** Octopus's `HelpText` from its error body, when it sent one. */
  helpText?: string;
  /** The underlying error, with its message already redacted. */
  cause?: unknown;
}

/**
 * The one error type this package throws for Octopus and configuration failures. The message stands
 * alone (the Pulumi engine shows only the message): it says what failed, what Octopus said, and what
 * to do. Messages never contain a credential or an API key.
 */
export class OctopusError extends Error {
  override readonly name = "OctopusError";
  readonly code: OctopusErrorCode;
  readonly status: number | undefined;
  readonly method: string | undefined;
  readonly path: string | undefined;
  readonly errors: string[];
  readonly helpText: string | undefined;

  constructor(code: OctopusErrorCode, message: string, details: OctopusErrorDetails = {}) {
    super(redact(message), details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.status = details.status;
    this.method = details.method;
    this.path = details.path;
    this.errors = (details.errors ?? []).map(redact);
    this.helpText = details.helpText === undefined ? undefined : redact(details.helpText);
  }
}
