import { parseDuration } from "./time";

/**
 * Rotation decisions allow for clocks that disagree: the provider compares against the server's
 * time (its clock plus the skew measured against the key's `Created`), and rotates this much early.
 */
export const ROTATION_MARGIN_MS = 60_000;

/**
 * The most a measured clock skew counts: more than any time-zone mistake (a clock set to local
 * time while claiming UTC is off by whole hours, 14 at most). A create answer dated further off
 * does not measure a clock: it may be a server that copies `Created`, or one that lies.
 */
export const MAX_CLOCK_SKEW_MS = 86_400_000;

/** A measured skew (server clock minus ours) as stored: whole milliseconds, at most a day either way. */
export function boundedSkew(ms: number): number {
  if (!Number.isFinite(ms)) return 0;
  return Math.round(Math.min(MAX_CLOCK_SKEW_MS, Math.max(-MAX_CLOCK_SKEW_MS, ms)));
}

/**
 * The server's time as rotation decisions take it: the provider's clock brought forward by the
 * skew when the server's clock was measured ahead (at most a day), never held back. Rotating early
 * is always safe — the replacement gets its whole lifetime — and rotating late is not: a server
 * measured behind, or an answer dated in the past, must not delay a rotation, and a key past its
 * expiry by the provider's own clock always counts as expired. Stored skews of any size (written
 * by an earlier release, or edited) are bounded here too.
 */
function serverNow(nowMs: number, clockSkewMs: number): number {
  return nowMs + Math.max(0, boundedSkew(clockSkewMs));
}

/** When a key expiring at `expires` should be rotated, or null when it never will be. */
export function rotateAt(expires: string | null, rotateBefore: string | null): string | null {
  if (!expires || !rotateBefore) return null;
  const window = parseDuration(rotateBefore);
  const end = Date.parse(expires);
  if (window === undefined || Number.isNaN(end)) return null;
  return new Date(end - window).toISOString();
}

/** Whether the key is past its expiry (see {@link serverNow}). */
export function isExpired(expires: string | null, nowMs: number, clockSkewMs: number): boolean {
  return expires !== null && Date.parse(expires) <= serverNow(nowMs, clockSkewMs);
}

/**
 * Whether `pulumi up` at `nowMs` should replace the key: inside its rotation window, or expired
 * (the window ends at the expiry), by {@link serverNow}.
 */
export function rotationDue(
  expires: string | null,
  rotateBefore: string | null,
  nowMs: number,
  clockSkewMs: number,
): boolean {
  const at = rotateAt(expires, rotateBefore);
  if (at === null) return false;
  return serverNow(nowMs, clockSkewMs) + ROTATION_MARGIN_MS >= Date.parse(at);
}
