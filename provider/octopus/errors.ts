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
  | "UNSUPPORTED";

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

/** Octopus API keys (`API-` + upper-case letters and digits) and bearer tokens. */
const SECRET_PATTERNS: RegExp[] = [
  /API(?:-|%2D)[A-Z0-9]{8,}/g,
  /(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi,
];

/**
 * Secrets known at run time (credentials in use, created keys), as compared: upper-cased, without
 * an `API-` prefix; grouped by length, so that redacting a text costs a lookup per position and
 * distinct length, not a comparison with every secret ever seen. One short string per secret.
 */
const knownSecrets = new Map<number, Set<string>>();
/** Secrets exactly as registered, for values with characters a token never has. */
const exactSecrets = new Set<string>();

/** The part of a secret that identifies it: upper case, without `API-`. */
function core(secret: string): string {
  return secret.toUpperCase().replace(/^API-/, "");
}

/**
 * Registers a value that must never appear in an error message or log line. Short values are
 * ignored: redacting them would mangle ordinary text and they are not credentials.
 */
export function registerSecret(value: string | undefined | null): void {
  if (typeof value !== "string" || value.length < 8) return;
  const identifying = core(value);
  const compared = identifying.length >= 8 ? identifying : value.toUpperCase();
  let sameLength = knownSecrets.get(compared.length);
  if (!sameLength) knownSecrets.set(compared.length, (sameLength = new Set()));
  sameLength.add(compared);
  if (!/^[A-Za-z0-9._~+/=-]+$/.test(value)) exactSecrets.add(value);
}

/** Whether `text` (already comparable) holds a known secret anywhere. */
function holdsKnownSecret(text: string): boolean {
  for (const [length, secrets] of knownSecrets) {
    for (let at = 0; at + length <= text.length; at++) {
      if (secrets.has(text.slice(at, at + length))) return true;
    }
  }
  return false;
}

/**
 * Runs of token characters, percent-escapes included: a secret copied into a message sits inside
 * one, however it was cased or URL-encoded.
 */
const TOKEN_RUN = /(?:[A-Za-z0-9._~+/=-]|%[0-9A-Fa-f]{2})+/g;

/** `run` percent-decoded and upper-cased; malformed escapes are left as they are. */
function comparable(run: string): string {
  if (!run.includes("%")) return run.toUpperCase();
  return run
    .replace(/%[0-9A-Fa-f]{2}/g, (escape) => String.fromCharCode(parseInt(escape.slice(1), 16)))
    .toUpperCase();
}

/**
 * Replaces every known secret and every API-key-shaped string in `text` with `[redacted]`. A
 * known secret is caught with or without its `API-` prefix, in any case, and URL-encoded: the
 * whole run of token characters holding it is replaced.
 */
export function redact(text: string): string {
  let out = text;
  for (const secret of exactSecrets) {
    if (out.includes(secret)) out = out.split(secret).join("[redacted]");
  }
  if (knownSecrets.size > 0) {
    out = out.replace(TOKEN_RUN, (run) => {
      if (run.length < 8) return run;
      return holdsKnownSecret(comparable(run)) ? "[redacted]" : run;
    });
  }
  for (const pattern of SECRET_PATTERNS) {
    out = out.replace(pattern, (_match, prefix?: unknown) =>
      typeof prefix === "string" ? `${prefix}[redacted]` : "[redacted]",
    );
  }
  return out;
}
