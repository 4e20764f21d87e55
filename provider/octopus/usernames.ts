import { OctopusError } from "./errors";
import type { OctopusUser } from "./answers";
import { escapeControls } from "./text";

/**
 * Whether `text` changes case without any compatibility folding: NFKC leaves it as it is, and
 * lower-casing keeps each character's length and never turns a non-ASCII character into ASCII.
 * The Kelvin sign (U+212A), which lower-cases to `k`, and `İ` (U+0130), which lower-cases to `i`
 * plus a combining dot, fail this.
 */
function foldsSimply(text: string): boolean {
  if (text.normalize("NFKC") !== text) return false;
  for (const char of text) {
    if (char.charCodeAt(0) < 0x80) continue;
    const lower = char.toLowerCase();
    if (lower.length !== char.length || [...lower].some((c) => c.charCodeAt(0) < 0x80)) {
      return false;
    }
  }
  return true;
}

/**
 * How a username found on the server relates to the one asked for: the same (`exact`), the same
 * but for letter case with no compatibility folding on either side (`case`), or neither.
 * Lower-casing is JavaScript's, which is locale-independent.
 */
export function usernameMatch(wanted: string, found: string): "exact" | "case" | undefined {
  if (found === wanted) return "exact";
  if (found.length !== wanted.length || found.toLowerCase() !== wanted.toLowerCase()) {
    return undefined;
  }
  return foldsSimply(found) && foldsSimply(wanted) ? "case" : undefined;
}

/** How many candidates an AMBIGUOUS_USER message names. */
const LISTED = 10;

/** `text` quoted for a message, bounded, control and bidirectional formatting characters escaped. */
function quoted(text: string): string {
  return escapeControls(JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text));
}

/**
 * Picks the user `username` names among those the server's filter returned: the exact match, or
 * else the single case-insensitive one. Throws AMBIGUOUS_USER when several differ only in case.
 *
 * Linear in the users listed, whatever a server lists: only the candidates a message names are
 * kept (and compared, by id, against a new one); the others are only counted. A server answering
 * tens of thousands of case variants on a page costs one pass, not one comparison per pair.
 */
export class UsernameMatcher {
  private exact: OctopusUser | undefined;
  /** The first {@link LISTED} distinct case variants, and their ids lower-cased. */
  private readonly byCase: OctopusUser[] = [];
  private readonly ids: string[] = [];
  /** Case variants listed beyond those kept (a user listed twice may count twice here). */
  private more = 0;

  constructor(
    private readonly username: string,
    private readonly serverUrl: string,
  ) {}

  /** Considers one user; true once the exact match is found (no need to read further). */
  consider(user: OctopusUser): boolean {
    const match = usernameMatch(this.username, user.Username);
    if (match === "exact") {
      this.exact = user;
      return true;
    }
    if (match !== "case") return false;
    const id = user.Id.toLowerCase();
    if (this.ids.includes(id)) return false;
    if (this.byCase.length < LISTED) {
      this.byCase.push(user);
      this.ids.push(id);
    } else {
      this.more++;
    }
    return false;
  }

  /** How many candidates it holds: never more than a message names (for tests). */
  retained(): number {
    return this.byCase.length;
  }

  /** The user named, `undefined` for none. */
  result(): OctopusUser | undefined {
    if (this.exact) return this.exact;
    if (this.byCase.length <= 1) return this.byCase[0];
    const named = this.byCase.map((u) => `${quoted(u.Username)} (${u.Id})`).join(", ");
    const more = this.more > 0 ? ` and ${this.more} more` : "";
    throw new OctopusError(
      "AMBIGUOUS_USER",
      `More than one Octopus user at ${this.serverUrl} has the username ${quoted(this.username)} apart from letter case: ${named}${more}. Give the username exactly as Octopus shows it, or give userId instead`,
    );
  }
}
