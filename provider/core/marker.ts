import { randomInt } from "node:crypto";
import { OctopusError } from "../octopus/errors";

/**
 * The lifetime a create asks for: the latest instant the key may expire, and how much earlier the
 * provider may make it to mark the request (see {@link markedExpiry}).
 */
export interface RequestedLifetime {
  /** The expiry asked for, in ms since the epoch. */
  latest: number;
  /** How much earlier the expiry sent may be: 1 s for `expiresAt`, 5 s for `expiresIn`. */
  slackMs: number;
}

/** Sub-second slack: an `expiresAt` loses less than a second. */
export const AT_SLACK_MS = 1_000;
/**
 * An `expiresIn` is relative to a moment the user does not choose: a few seconds are noise, and
 * multiply the markers another process could pick by five.
 */
export const IN_SLACK_MS = 5_000;

/**
 * The exact expiry to send: up to `slackMs` before the latest asked for (never later, so that it
 * cannot cross a limit the user aimed at), chosen at random, never an instant a server that keeps
 * less than milliseconds could list (see {@link keptByCoarseServer}), and unlike every instant in
 * `taken`. The instant is this request's marker: after a lost answer, the key whose `Expires` is
 * exactly this instant is the request's result. Avoiding the coarse instants means that a server
 * which rounds or cuts expiries can never make another request's key look marked with this one:
 * on such a server no key matches exactly, and a lost create's key is named, never revoked.
 */
export function markedExpiry(lifetime: RequestedLifetime, taken: ReadonlySet<number>): number {
  const slack = Math.max(AT_SLACK_MS, Math.floor(lifetime.slackMs));
  // Bounded: `taken` holds this process's creates in flight for one user and purpose, far fewer
  // than the slack's 699+ usable instants.
  for (let tries = 0; tries < 10_000; tries++) {
    const sent = lifetime.latest - randomInt(slack);
    if (!keptByCoarseServer(sent) && !taken.has(sent)) return sent;
  }
  throw new OctopusError(
    "INTERNAL",
    "No free expiry marker: too many creates in flight for one user and purpose",
  );
}

/**
 * Whether a server that keeps instants coarser than a millisecond could list `ms`: whole
 * seconds, tenths and hundredths end in 0, and SQL Server's `datetime` (1/300 s) lists
 * milliseconds ending in 0, 3 or 7.
 */
export function keptByCoarseServer(ms: number): boolean {
  const last = Math.abs(ms) % 10;
  return last === 0 || last === 3 || last === 7;
}

/** How a listed key's `Expires` relates to the marker a lost create sent. */
export type MarkerMatch =
  /** Exactly the instant sent: this request's key, if it was made around the request. */
  | "exact"
  /**
   * Within a second of the instant sent, but not it: what a server that rounds or cuts the
   * expiry would list for this request's key. It may be ours, but that cannot be proven.
   */
  | "near"
  /** Another expiry: most likely another request's key. */
  | "other";

export function matchMarker(expires: string | null | undefined, sent: number): MarkerMatch {
  const listed = typeof expires === "string" ? Date.parse(expires) : NaN;
  if (Number.isNaN(listed)) return "other";
  if (listed === sent) return "exact";
  return Math.abs(listed - sent) < 1_000 ? "near" : "other";
}
