import { redact } from "./redaction";

/**
 * Stable, machine-readable reasons a call failed, each with what it means. They are part of the
 * public API: match on `error.code`, never on the message text.
 */
export const ERROR_CODES = {
  VALIDATION: "Octopus refused the request as invalid (400), e.g. an expiry it does not accept.",
  UNAUTHENTICATED:
    "The credentials were missing, wrong, expired or belong to a disabled user (401).",
  FORBIDDEN: "The credentials are valid but lack a permission (403).",
  NOT_FOUND: "The user or key does not exist (404).",
  USER_NOT_FOUND: "No user has the requested username.",
  AMBIGUOUS_USER: "More than one user could be the one a username names; the message lists them.",
  CONFLICT: "Octopus reported a conflict (409).",
  RATE_LIMITED: "Octopus kept answering 429 until the retry budget ran out.",
  SERVER_ERROR: "Octopus (or a proxy in front of it) answered with a 5xx status.",
  HTTP_ERROR: "Any other unexpected status, or a redirect (never followed).",
  NETWORK: "The server could not be reached, the connection broke, or TLS failed.",
  TIMEOUT: "No answer within the request timeout.",
  BAD_RESPONSE:
    "The server answered with something that is not what Octopus sends (HTML, invalid JSON, missing or mistyped fields, an answer over the size limit, paging that never ends).",
  UNKNOWN_OUTCOME:
    "A create may or may not have taken effect; the message says what was done about it and names any key left for a person to check.",
  CONFIGURATION:
    "The connection settings or the stored state are unusable (no address, no credential, a credential that may not go to that server, refused transport); nothing was sent.",
  UNSUPPORTED:
    'The server\'s Octopus version lacks what the inputs ask for (`accessLevel: "ReadOnly"` before 2026.3), or the state was written by a newer release.',
  INTERNAL:
    "A failure inside this package that none of the above describes (a bug: please report it).",
} as const;

export type OctopusErrorCode = keyof typeof ERROR_CODES;

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
