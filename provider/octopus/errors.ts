import { redact } from "./redaction";

/**
 * Stable, machine-readable reasons a call failed, each with what it means and what to do (the
 * README's table is written from here). They are part of the public API: match on `error.code`,
 * never on the message text.
 */
export const ERROR_CODES = {
  VALIDATION: {
    means:
      "Octopus refused the request as invalid (400): an expiry in the past, later than the expiry of the key making the request, or beyond the server's maximum.",
    fix: "The message names the rule: pick another `expiresAt`/`expiresIn`, or authenticate with a longer-lived key.",
  },
  UNAUTHENTICATED: {
    means: "The credential was missing, wrong, expired or revoked, or its user is disabled (401).",
    fix: "Fix the credential the message names.",
  },
  FORBIDDEN: {
    means:
      "The credential lacks a permission (403): a key for another user who is not a service account, a service account's key without an administrator, user keys turned off.",
    fix: "Use the user's own credentials, a service account, or an administrator's key.",
  },
  NOT_FOUND: { means: "The user or key does not exist (404).", fix: "Check the id." },
  USER_NOT_FOUND: {
    means: "No user has the requested username.",
    fix: "Check the spelling, or give `userId`.",
  },
  AMBIGUOUS_USER: {
    means:
      "Several users' usernames differ from `username` only in letter case, and none is equal; the message names up to 10 and counts the rest.",
    fix: "Give the username exactly as Octopus shows it, or `userId`.",
  },
  CONFLICT: { means: "Octopus reported a conflict (409).", fix: "Read Octopus's message." },
  RATE_LIMITED: {
    means: "Octopus kept answering 429 until the retry budget ran out.",
    fix: "Run again later.",
  },
  SERVER_ERROR: {
    means:
      "Octopus, or a gateway in front of it, answered 5xx (reads and revokes are retried first).",
    fix: "Check the server's health; run again.",
  },
  HTTP_ERROR: {
    means: "Any other unexpected status, or a redirect (never followed).",
    fix: "Read the status and Octopus's message; check the address.",
  },
  NETWORK: {
    means: "The server could not be reached, the connection broke, or TLS failed.",
    fix: "Check the address, proxy and certificate settings.",
  },
  TIMEOUT: {
    means: "No answer within the request timeout.",
    fix: "Check the server; raise `requestTimeout`.",
  },
  BAD_RESPONSE: {
    means:
      "The answer is not what Octopus sends: an HTML login or proxy page, invalid JSON, missing or mistyped fields, an answer over the size limit, paging that never ends.",
    fix: "Point the address at Octopus itself.",
  },
  UNKNOWN_OUTCOME: {
    means:
      "A create may or may not have taken effect (its answer was lost); the message says what was done and names any key left for a person to check.",
    fix: "Do what the message says, then run again.",
  },
  CONFIGURATION: {
    means:
      "The connection settings or the stored state are unusable (no address or credential, a credential that may not go to that server, refused transport); nothing was sent.",
    fix: "Set what the message names.",
  },
  UNSUPPORTED: {
    means:
      'The server\'s Octopus version lacks what the inputs ask for (`accessLevel: "ReadOnly"` before 2026.3; the key it made was revoked), or the state was written by a newer release.',
    fix: "Upgrade Octopus or this package, or change the input.",
  },
  INTERNAL: {
    means: "A failure inside this package that none of the above describes.",
    fix: "Report it, with the message.",
  },
} as const satisfies Record<string, { means: string; fix: string }>;

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
