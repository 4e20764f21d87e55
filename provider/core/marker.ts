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
 * cannot cross a limit the user aimed at), chosen at random, never on a whole second, and unlike
 * every instant in `taken`. The instant is this request's marker: after a lost answer, the key
 * whose `Expires` is exactly this instant is the request's result. A whole second is avoided so
 * that a server that drops the sub-second digits can never make another key look marked.
 */
export function markedExpiry(lifetime: RequestedLifetime, taken: ReadonlySet<number>): number {
  const slack = Math.max(AT_SLACK_MS, Math.floor(lifetime.slackMs));
  // Bounded: `taken` holds this process's creates in flight for one user and purpose, far fewer
  // than the slack's 999+ usable instants.
  for (let tries = 0; tries < 10_000; tries++) {
    const sent = lifetime.latest - randomInt(slack);
    if (sent % 1_000 !== 0 && !taken.has(sent)) return sent;
  }
  throw new OctopusError(
    "INTERNAL",
    "No free expiry marker: too many creates in flight for one user and purpose",
  );
}

/** How a listed key's `Expires` relates to the marker a lost create sent. */
export type MarkerMatch =
  /** Exactly the instant sent: this request's key. */
  | "ours"
  /** The instant sent without its sub-second digits: it may be ours, but that cannot be proven. */
  | "unproven"
  /** Another expiry: another request's key. */
  | "other";

export function matchMarker(expires: string | null | undefined, sent: number): MarkerMatch {
  const listed = typeof expires === "string" ? Date.parse(expires) : NaN;
  if (Number.isNaN(listed)) return "other";
  if (listed === sent) return "ours";
  // Truncated or rounded to the second: what a server that stores whole seconds would list.
  if (listed % 1_000 === 0 && Math.abs(listed - sent) < 1_000) return "unproven";
  return "other";
}
