/**
 * Keeps secrets out of every message: credentials in use and keys created are registered as they
 * are seen, and every message an OctopusError carries is redacted of them and of anything shaped
 * like an Octopus API key or a bearer token.
 */

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
