import type { OctopusApiKeyResource, OctopusClient, OctopusUser } from "../octopus/client";
import { OctopusError } from "../octopus/errors";
import type { Problem } from "./connection/settings";
import { ACCESS_LEVELS, AccessLevel, ApiKeyInputs } from "./fields";
import type { ApiKeyState } from "./state";

/**
 * Least-privilege keys: the `accessLevel` input, what the server reports for a key, and the
 * fail-safe that never lets a full-access key stand in for a read-only one.
 */

/** The first Octopus version that issues read-only keys (OctopusDeploy/Issues #10131). */
export const READ_ONLY_SINCE = "2026.3";

/** What Octopus makes when no level is asked for: full access, on every version. */
const SERVER_DEFAULT: AccessLevel = "FullAccess";

/** Reported levels are short identifiers; anything else is not a level Octopus sends. */
const LEVEL_TEXT = /^[A-Za-z]{1,64}$/;

/**
 * The problem with an `accessLevel` input, if any; nothing here talks to Octopus. `isUnknown`
 * tells a value not known yet (preview), which is checked once known.
 */
export function accessLevelProblems(value: unknown, isUnknown: (v: unknown) => boolean): Problem[] {
  if (value === undefined || value === null || isUnknown(value)) return [];
  if (typeof value === "string" && (ACCESS_LEVELS as readonly string[]).includes(value)) return [];
  const close =
    typeof value === "string"
      ? ACCESS_LEVELS.find(
          (level) => level.toLowerCase() === value.replace(/[\s_-]/g, "").toLowerCase(),
        )
      : undefined;
  const given =
    typeof value === "string" ? JSON.stringify(value.slice(0, 40)) : `a ${typeof value}`;
  return [
    {
      property: "accessLevel",
      reason:
        `must be "FullAccess" or "ReadOnly", not ${given}` +
        (close ? ` (did you mean "${close}"?)` : "") +
        "; omit it for the server's default, full access",
    },
  ];
}

/** The create option for the level asked for: nothing when the server's default is wanted. */
export function accessLevelOption(inputs: ApiKeyInputs): { accessLevel?: AccessLevel } {
  return inputs.accessLevel ? { accessLevel: inputs.accessLevel } : {};
}

/** The state fields this file owns. */
export type AccessState = Pick<ApiKeyState, "accessLevel" | "lastUsed" | "requestedAccessLevel">;

/** The outputs a key's answer (create or GET) reports: its level and when it was last used. */
export function reportedAccess(
  key: OctopusApiKeyResource,
): Pick<AccessState, "accessLevel" | "lastUsed"> {
  return { accessLevel: reportedLevel(key), lastUsed: lastUsedOf(key) };
}

/** The level the input kept in state stands for, as diff compares it (none means the default). */
function effective(level: string | null | undefined): string {
  return level ?? SERVER_DEFAULT;
}

/**
 * Whether the key must be replaced for its access level (a known input; diff replaces on an
 * unknown one): a different level asked for, or the server reporting that a key meant to be
 * read-only is not (a full-access key never stands in). Asking for the default by name, or the
 * reverse, keeps the key.
 */
export function accessLevelReplaced(state: ApiKeyState, inputs: ApiKeyInputs): boolean {
  const wanted = effective(inputs.accessLevel);
  if (wanted !== effective(state.requestedAccessLevel)) return true;
  return wanted === "ReadOnly" && state.accessLevel !== null && state.accessLevel !== "ReadOnly";
}

/** Whether the stored input differs without changing the key (`FullAccess` ↔ the default). */
export function accessLevelUpdated(state: ApiKeyState, inputs: ApiKeyInputs): boolean {
  return (inputs.accessLevel ?? null) !== state.requestedAccessLevel;
}

/** The stored input, as update records it. */
export function requestedAccess(inputs: ApiKeyInputs): Pick<AccessState, "requestedAccessLevel"> {
  return { requestedAccessLevel: inputs.accessLevel ?? null };
}

/**
 * The access fields of a key just created, after making sure it is what was asked for. The
 * level comes from the create answer or, when that names none and a level was asked for, a GET
 * of the key (Octopus's documented create answer has no `AccessLevel`). With the server's
 * default, no GET is made, to keep a create one request: the next refresh reports the level.
 *
 * When `ReadOnly` was asked for and the server does not report `ReadOnly`, the key is revoked
 * before failing: an older server ignores the field and makes a full-access key. If the revoke
 * fails too, the message names the key so that a person can revoke it.
 */
export async function verifiedAccess(
  client: OctopusClient,
  user: OctopusUser,
  key: OctopusApiKeyResource,
  inputs: ApiKeyInputs,
): Promise<AccessState> {
  const requested = inputs.accessLevel ?? null;
  let reported = reportedAccess(key);
  let readBack = "";
  if (requested !== null && reported.accessLevel === null) {
    try {
      reported = reportedAccess(await client.getApiKey(user.Id, key.Id));
    } catch (error) {
      // Only a read-only key must be proven; any other is tracked, and refresh reports it.
      readBack = ` (reading the key back failed: ${(error as Error).message})`;
    }
  }
  if (requested !== "ReadOnly" || reported.accessLevel === "ReadOnly") {
    return { ...reported, requestedAccessLevel: requested };
  }

  const who = `${user.Username} (${user.Id})`;
  const saw = reported.accessLevel === null ? "no access level" : `"${reported.accessLevel}"`;
  const problem = `accessLevel "ReadOnly" needs Octopus ${READ_ONLY_SINCE} or later, and ${client.serverUrl} reported ${saw} for the key it made${readBack}`;
  const fix = `Upgrade Octopus to ${READ_ONLY_SINCE}+, or remove accessLevel to create a full-access key`;
  try {
    await client.revokeApiKey(user.Id, key.Id);
  } catch (error) {
    throw new OctopusError(
      "UNSUPPORTED",
      `${problem}. Revoking that key failed (${(error as Error).message}): revoke key ${key.Id} of ${who} by hand in Octopus, as it may have full access. ${fix}`,
    );
  }
  throw new OctopusError(
    "UNSUPPORTED",
    `${problem}. That key (${key.Id}) has been revoked, as a full-access key never stands in for a read-only one. ${fix}`,
  );
}

function reportedLevel(key: OctopusApiKeyResource): string | null {
  const level = key.AccessLevel;
  return typeof level === "string" && LEVEL_TEXT.test(level) ? level : null;
}

/**
 * `LastUsedTimeStamp` as ISO 8601 (UTC), or null: never used, not tracked (before 2026.3, or
 * `IsLastUsedTimestampKnown: false`), or not a time at all.
 */
function lastUsedOf(key: OctopusApiKeyResource): string | null {
  const stamp = key.LastUsedTimeStamp;
  if (key.IsLastUsedTimestampKnown === false || typeof stamp !== "string" || stamp.length > 64) {
    return null;
  }
  const at = Date.parse(stamp);
  // .NET's DateTimeOffset.MinValue (year 1) is how "never" can look in a serialized answer.
  return Number.isFinite(at) && at > 0 ? new Date(at).toISOString() : null;
}
