import { parseDuration } from "./time";

/**
 * Rotation decisions allow for clocks that disagree: the provider compares against the server's
 * time (its clock plus the skew measured against the key's `Created`), and rotates this much early.
 */
export const ROTATION_MARGIN_MS = 60_000;

/** When a key expiring at `expires` should be rotated, or null when it never will be. */
export function rotateAt(expires: string | null, rotateBefore: string | null): string | null {
  if (!expires || !rotateBefore) return null;
  const window = parseDuration(rotateBefore);
  const end = Date.parse(expires);
  if (window === undefined || Number.isNaN(end)) return null;
  return new Date(end - window).toISOString();
}

/** Whether the key is past its expiry, per the server's clock. */
export function isExpired(expires: string | null, nowMs: number, clockSkewMs: number): boolean {
  return expires !== null && Date.parse(expires) <= nowMs + clockSkewMs;
}

/** Whether `pulumi up` at `nowMs` should replace the key (expired, or inside the window). */
export function rotationDue(
  expires: string | null,
  rotateBefore: string | null,
  nowMs: number,
  clockSkewMs: number,
): boolean {
  const at = rotateAt(expires, rotateBefore);
  if (at === null) return false;
  return nowMs + clockSkewMs + ROTATION_MARGIN_MS >= Date.parse(at);
}
