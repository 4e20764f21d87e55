import type { OctopusApiKeyResource } from "../octopus/client";
import { matchMarker } from "./marker";

/**
 * Which of a user's keys may be the result of a create whose answer was lost: the window around
 * the send, how each key's expiry relates to the request's marker, and the few keys a message
 * names. The listing is read key by key and never kept: memory stays at {@link MAX_NAMED} keys
 * plus counts, whatever the listing's length or order.
 */

/** Keys named in one message; more are counted, so that a message stays readable. */
export const MAX_NAMED = 20;

/**
 * How much earlier than the request's send a key may be stamped and still count as made around
 * it. `Created` is Octopus's clock, which this machine cannot read: the `Date` header may come
 * from a reverse proxy (nginx stamps its own) whose clock is seconds or more off Octopus's, and
 * this machine's clock may be off too. The window starts at the earlier of the two estimates of
 * the send (this machine's clock, and the `Date` header's), less 5 minutes: the clock difference
 * Kerberos tolerates by default (so the machines of a Windows domain, where Octopus Server often
 * runs, stay within it), and far more than the seconds an unsynchronised proxy is seen to drift.
 * There is no later bound: a key listed is made by the time it is listed.
 *
 * A wider window only names more keys: a key is revoked only when it carries the exact expiry
 * instant the request sent, which another request's key carries only if it aimed at the same
 * random millisecond; and when two keys carry it, neither is revoked.
 */
export const AROUND_SEND_MS = 5 * 60_000;

/** The earliest `Created` (server time) a key made around a request sent at `sentAt` may have. */
export function earliestCreated(sentAt: number, serverClockOffsetMs: number | undefined): number {
  return sentAt + Math.min(0, serverClockOffsetMs ?? 0) - AROUND_SEND_MS;
}

/**
 * How a listed key stands: it carries the exact marker and was made around the send ("exact"),
 * carries it but is stamped before the window ("early"), has an expiry within a second of it
 * ("near", a server that rounds), or is another key made around the send ("other").
 */
export type Standing = "exact" | "early" | "near" | "other";

const RANK: Record<Standing, number> = { exact: 0, early: 1, near: 2, other: 3 };

export interface Candidate {
  key: OctopusApiKeyResource;
  standing: Standing;
  created: number;
}

/** What a lost create looks for: its purpose, its marker (if any), and where the window starts. */
export interface LostKeyLook {
  purpose: string;
  /** The expiry instant the request sent, or undefined for the server's default. */
  sent: number | undefined;
  /** The earliest `Created` that counts as around the send ({@link earliestCreated}). */
  since: number;
  /** Keys this process created or tracks: never a lost create's. */
  known: ReadonlySet<string>;
}

/**
 * One pass over a listing: {@link consider} each key, then ask for the {@link proven} key or the
 * {@link named} ones. The result does not depend on the order the keys come in.
 */
export class LostKeySearch {
  readonly counts: Record<Standing, number> = { exact: 0, early: 0, near: 0, other: 0 };
  /** The keys a message names, best first. */
  private readonly kept: Candidate[] = [];
  private readonly purpose: string;

  constructor(private readonly look: LostKeyLook) {
    // Octopus may trim the purpose it stores.
    this.purpose = look.purpose.trim();
  }

  consider(key: OctopusApiKeyResource): void {
    if (key.Purpose?.trim() !== this.purpose || this.look.known.has(key.Id)) return;
    const created = Date.parse(key.Created);
    // A stamp that does not parse is taken as recent: better named than missed.
    const around = !(created < this.look.since);
    const match = this.look.sent === undefined ? "other" : matchMarker(key.Expires, this.look.sent);
    let standing: Standing;
    if (match === "exact") standing = around ? "exact" : "early";
    else if (match === "near") standing = "near";
    else if (around) standing = "other";
    else return;
    this.counts[standing]++;
    this.keep({ key, standing, created });
  }

  /** Where the window around the send starts, in server time. */
  get since(): number {
    return this.look.since;
  }

  /** Untracked keys that may be the request's. */
  get total(): number {
    const { exact, early, near, other } = this.counts;
    return exact + early + near + other;
  }

  /** The request's own key: the only key carrying its exact marker, made around the send. */
  proven(): OctopusApiKeyResource | undefined {
    const { exact, early } = this.counts;
    return exact === 1 && early === 0 ? this.kept[0]?.key : undefined;
  }

  /** At most {@link MAX_NAMED} candidates, best first: exact, early, near, then the newest. */
  named(): readonly Candidate[] {
    return this.kept;
  }

  private keep(candidate: Candidate): void {
    const at = this.kept.findIndex((kept) => before(candidate, kept));
    if (at < 0) {
      if (this.kept.length < MAX_NAMED) this.kept.push(candidate);
      return;
    }
    this.kept.splice(at, 0, candidate);
    if (this.kept.length > MAX_NAMED) this.kept.pop();
  }
}

/** Whether `a` is named before `b`: by standing, then newest first, then by id. */
function before(a: Candidate, b: Candidate): boolean {
  if (RANK[a.standing] !== RANK[b.standing]) return RANK[a.standing] < RANK[b.standing];
  const ca = Number.isNaN(a.created) ? Infinity : a.created;
  const cb = Number.isNaN(b.created) ? Infinity : b.created;
  if (ca !== cb) return ca > cb;
  return a.key.Id < b.key.Id;
}

/**
 * A fragment of the purpose for the listing's `partialPurpose` filter, or undefined where it would
 * not help. How the server matches the fragment is not documented (letter case, collation, pattern
 * characters), so the fragment must match the stored purpose under any reading: the longest run
 * of ASCII letters, digits and `.:/@#+=,()-` — no space (a server might fold runs of spaces) and
 * none of SQL's pattern characters (`%`, `_`, `[`, `]`, `^`), which a server could read as a pattern
 * that no longer matches its own text. Under 3 characters it narrows little: no filter then.
 */
export function purposeFragment(purpose: string): string | undefined {
  let best = "";
  for (const run of purpose.match(/[A-Za-z0-9.:/@#+=,()-]+/g) ?? []) {
    if (run.length > best.length) best = run;
  }
  return best.length >= 3 ? best : undefined;
}
