import { parseTimestamp } from "../octopus/text";

/** Durations such as `90d`, `12h`, `30m`, or combinations such as `1d12h`. */
const DURATION = /^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
const UNIT_MS = [7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1_000];

/** The length of `text` in milliseconds, or `undefined` when it is not a positive duration. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match || text.trim() === "") return undefined;
  let total = 0;
  for (let i = 0; i < UNIT_MS.length; i++) {
    const part = match[i + 1];
    if (part !== undefined) total += Number(part) * UNIT_MS[i];
  }
  return total > 0 && Number.isSafeInteger(total) ? total : undefined;
}

// One rule for every timestamp, given or answered: ISO 8601 with a time zone (../octopus/text).
export { parseTimestamp };

/**
 * The provider's clock. Production code reads real time; `OCTOPUS_APIKEY_FAKE_NOW` (an ISO 8601
 * timestamp) starts the clock at that instant instead — a test aid, so that a test can run
 * "the next `pulumi up`, 100 days later" in a fresh provider host without waiting. `setClock`
 * replaces it in-process.
 */
let clock: () => number = defaultClock();

function defaultClock(): () => number {
  const fake = process.env.OCTOPUS_APIKEY_FAKE_NOW;
  const start = fake ? parseTimestamp(fake) : undefined;
  if (start === undefined) return Date.now;
  const origin = Date.now();
  return () => start + (Date.now() - origin);
}

/** The current time in milliseconds since the epoch, per the provider's clock. */
export function now(): number {
  return clock();
}

/** Replaces the provider's clock (tests); call with no argument to restore the default. */
export function setClock(next?: () => number): void {
  clock = next ?? defaultClock();
}
