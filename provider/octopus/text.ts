/**
 * What text may hold where it crosses this package's edges, decided once for the inputs a program
 * gives (core/check) and the answers a server gives (./answers, ./failures): timestamps are
 * ISO 8601 with a time zone, and some characters are never stored or shown raw.
 */

/**
 * ISO 8601 date-times as Octopus writes and accepts them (`2026-01-31T12:00:00.1234567+00:00`).
 * A time zone is required: a timestamp without one would mean different instants on different
 * machines. Nothing else passes, though `Date.parse` takes much more (`Jan 1 2026 (any text)`).
 */
const ISO_8601 =
  /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/** Milliseconds since the epoch for an ISO 8601 timestamp with a time zone, else `undefined`. */
export function parseTimestamp(text: string): number | undefined {
  const match = ISO_8601.exec(text);
  if (!match) return undefined;
  // `Date.parse` rolls 2026-02-30 over into March: a day the month does not have is no date.
  const [year, month, day] = [match[1], match[2], match[3]].map(Number);
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Characters that change how text is shown instead of being shown: control characters (Unicode
 * `Cc`: C0 such as line breaks, tabs and the ESC of terminal escape sequences, DEL, and C1 such
 * as U+0085 and U+009B, a terminal's CSI) and bidirectional formatting characters (Unicode
 * `Bidi_Control`: the embeddings and overrides U+202A–U+202E, the isolates U+2066–U+2069 and the
 * marks U+200E, U+200F and U+061C), which reorder the text around them on screen.
 */
const CONTROLS = /[\p{Cc}\p{Bidi_Control}]/u;
const CONTROL_RUNS = /[\p{Cc}\p{Bidi_Control}]+/gu;
const EACH_CONTROL = /[\p{Cc}\p{Bidi_Control}]/gu;

/** The first such character in `text`, as `U+XXXX`, with its index; `undefined` for none. */
export function findControl(text: string): { char: string; index: number } | undefined {
  const match = CONTROLS.exec(text);
  if (!match) return undefined;
  return { char: `U+${codePoint(match[0])}`, index: match.index };
}

/**
 * Why a given text (an input, an address) is refused for the control or bidirectional formatting
 * character it holds, or `undefined`. Such characters are invisible, or reorder how the text is
 * shown (in Octopus, a terminal, a code review), so the message names the one found by code point.
 */
export function controlProblem(text: string): string | undefined {
  const found = findControl(text);
  if (!found) return undefined;
  const at = [...text.slice(0, found.index)].length + 1;
  return `must not contain control characters (such as line breaks, tabs, terminal escapes or U+0080–U+009F) or bidirectional formatting characters (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C); found ${found.char} at character ${at}: remove it`;
}

/** Whether `text` holds a control or bidirectional formatting character. */
export function hasControl(text: string): boolean {
  return CONTROLS.test(text);
}

/**
 * `text` for a message, each control or bidirectional formatting character escaped as `\uXXXX`:
 * for names quoted in a message, where every character counts.
 */
export function escapeControls(text: string): string {
  return text.replace(EACH_CONTROL, (c) => `\\u${codePoint(c)}`);
}

/**
 * `text` for a message, each run of control or bidirectional formatting characters a space: for
 * prose such as Octopus's error text, whose line breaks separate sentences.
 */
export function flattenControls(text: string): string {
  return text.replace(CONTROL_RUNS, " ");
}

function codePoint(char: string): string {
  return (char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
}
