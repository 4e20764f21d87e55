import type { OctopusApiKeyResource } from "../octopus/client";
import { controlProblem, escapeControls } from "../octopus/text";
import { reportedAccess } from "./access";
import { explainLookup } from "./advice";
import type { Connected } from "./connection/connector";
import type { Problem } from "./connection/settings";
import { GET_API_KEYS, KEY_SUMMARY, OutputValues } from "./fields";
import type { UserDirectory } from "./users";

/**
 * A user's API keys as plain values, for audits (`getApiKeys`): each key's id, purpose (control
 * and bidirectional formatting characters escaped), dates, access level and hint, never a secret (a listing carries none: Octopus shows a key only once).
 * The listing is paged and bounded as every listing is (the client reads at most 100 pages).
 */

export interface ListKeysArgs {
  userId?: string;
  username?: string;
  /** Only keys whose purpose contains this text, ignoring case. */
  purpose?: string;
}

export type KeySummary = OutputValues<typeof KEY_SUMMARY>;

export interface KeyListing {
  userId: string;
  username: string;
  keys: KeySummary[];
}

const ARGS = Object.keys(GET_API_KEYS.inputs);
const MAX_TEXT = 1_000;

/** Every problem with the arguments, each naming the argument and the fix; nothing is sent. */
export function listArgsProblems(args: Record<string, unknown>): Problem[] {
  const problems: Problem[] = [];
  for (const key of Object.keys(args)) {
    if (!ARGS.includes(key)) {
      problems.push({ property: key, reason: `is not an argument; use ${ARGS.join(", ")}` });
    }
  }
  for (const key of ARGS) {
    const value = args[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== "string" || value.trim() === "" || value.length > MAX_TEXT) {
      problems.push({
        property: key,
        reason: `must be a non-empty string of at most ${MAX_TEXT} characters; omit it instead`,
      });
    } else if (controlProblem(value)) {
      problems.push({ property: key, reason: controlProblem(value) as string });
    }
  }
  if (typeof args.userId === "string" && typeof args.username === "string") {
    problems.push({
      property: "userId",
      reason: "set either userId or username, not both (neither means the caller's own user)",
    });
  }
  return problems;
}

/** The keys of the user `args` names (the caller by default). */
export async function listKeys(
  connected: Connected,
  users: UserDirectory,
  args: ListKeysArgs,
): Promise<KeyListing> {
  const owner = await users.find(connected, args);
  const wanted = args.purpose?.toLowerCase();
  const keys: KeySummary[] = [];
  // The server's purpose filter narrows the listing; the purpose is still compared here, as a
  // server may match it otherwise, or ignore it.
  const filter = args.purpose ? { partialPurpose: args.purpose } : {};
  const keep = (key: OctopusApiKeyResource) => {
    if (wanted === undefined || key.Purpose.toLowerCase().includes(wanted)) keys.push(summary(key));
  };
  await connected.client.listApiKeys(owner.Id, keep, filter).catch((error: unknown) => {
    throw explainLookup(error, { userId: owner.Id }, connected.endpoint);
  });
  return { userId: owner.Id, username: owner.Username, keys };
}

export function summary(key: OctopusApiKeyResource): KeySummary {
  const { accessLevel, lastUsed } = reportedAccess(key);
  const hint = typeof key.ApiKey === "object" ? (key.ApiKey?.Hint ?? null) : null;
  return {
    id: key.Id,
    // Octopus's text, any key's: kept whole, with control and bidirectional formatting
    // characters made visible (`\u202E`) rather than acted on where a program prints it.
    purpose: escapeControls(key.Purpose),
    created: key.Created,
    expires: key.Expires ?? null,
    lastUsed,
    accessLevel,
    hint: hint || null,
  };
}
