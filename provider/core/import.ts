import type { OctopusApiKeyResource, OctopusClient, OctopusUser } from "../octopus/client";
import { OctopusError } from "../octopus/errors";
import { controlProblem } from "../octopus/text";
import { usernameMatch } from "../octopus/usernames";
import { reportedAccess } from "./access";
import { importedActorType, reportedActorType } from "./actor";
import { explainCommon } from "./advice";
import type { Connected } from "./connection/connector";
import type { ApiKeyInputs } from "./fields";
import { AT_SLACK_MS } from "./marker";
import { reportedInputs, reportedOf } from "./plain-fields";
import { isExpired } from "./rotation";
import { ApiKeyState, STATE_VERSION } from "./state";
import { now, parseDuration, parseTimestamp } from "./time";

/**
 * Import of an existing key (`pulumi import`, or a resource's `import` option): what Octopus
 * reports about it becomes the resource's state and the inputs a program would declare for it.
 * Octopus keeps only a hash of the secret, so an imported key has no `apiKey`.
 *
 * The import id: `Users-N/apikeys-…` (a key lives under its user in Octopus's API) always
 * works. The key id alone works when the key belongs to the caller (one request) or to a service
 * account, found by asking each service account for the key: at most {@link MAX_PROBES} of them,
 * reading at most the first pages of users that listing allows. An ordinary user's key needs
 * the `Users-N/` form: no request can find its owner without asking every user.
 */

/** Service accounts asked for a key given by its id alone, at most. */
export const MAX_PROBES = 50;

/**
 * The bookkeeping field that marks a state made by import: the inputs the key was created with
 * are not known, only what Octopus reports. See {@link importedView}.
 */
export const IMPORTED = "imported";

export interface ImportedKey {
  id: string;
  /** The state, without a secret (`apiKey` is ""). */
  state: ApiKeyState;
  /** The inputs that describe the key: purpose, owner, expiry, access level. */
  inputs: Record<string, unknown>;
}

const ID_FORM = "Users-N/apikeys-… (the owner's user id, a slash, the key id)";

/** The parts of an import id; throws CONFIGURATION for anything else. */
export function parseImportId(id: string): { userId?: string; keyId: string } {
  const parts = id.trim().split("/");
  const segment = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,255}$/;
  if (parts.every((part) => segment.test(part)) && (parts.length === 1 || parts.length === 2)) {
    return parts.length === 2 ? { userId: parts[0], keyId: parts[1] } : { keyId: parts[0] };
  }
  throw new OctopusError(
    "CONFIGURATION",
    `The import id ${JSON.stringify(id.slice(0, 300))} is not a key id; use ${ID_FORM}, or the key id alone (apikeys-…) for your own key or a service account's`,
  );
}

/** Reads the key an import id names, with its owner, as state and inputs. */
export async function importKey(connected: Connected, importId: string): Promise<ImportedKey> {
  const { client, endpoint } = connected;
  const { userId, keyId } = parseImportId(importId);
  try {
    const me = await client.currentUser();
    const found = userId
      ? { owner: await client.getUser(userId), key: await client.getApiKey(userId, keyId) }
      : await findOwner(client, keyId, me);
    refuseShownPurpose(found.key);
    return describe(found.key, found.owner, me, endpoint.serverUrl);
  } catch (error) {
    if (error instanceof OctopusError && error.status === 404) {
      throw new OctopusError(
        "NOT_FOUND",
        `${endpoint.serverUrl} has no API key ${keyId}${userId ? ` for the user ${userId}` : ""}; check the import id (${ID_FORM})`,
        { status: 404 },
      );
    }
    throw explainCommon(error, endpoint);
  }
}

/**
 * The key `keyId` and its owner: the caller's, else a service account's (each asked in turn, at
 * most {@link MAX_PROBES}). Throws NOT_FOUND naming what was searched.
 */
async function findOwner(
  client: OctopusClient,
  keyId: string,
  me: OctopusUser,
): Promise<{ owner: OctopusUser; key: OctopusApiKeyResource }> {
  const own = await keyOf(client, me, keyId);
  if (own) return { owner: me, key: own };
  const accounts: OctopusUser[] = [];
  let more = false;
  try {
    await client.listUsers((user) => {
      if (user.IsService !== true || user.Id === me.Id) return false;
      if (accounts.length === MAX_PROBES) return (more = true);
      accounts.push(user);
      return false;
    });
  } catch (error) {
    if (!(error instanceof OctopusError && error.status === 403)) throw error;
    throw new OctopusError(
      "FORBIDDEN",
      `${keyId} is not one of your own keys, and looking for it among service accounts needs an administrator's credentials (permission UserView); import it as ${ID_FORM}`,
    );
  }
  for (const account of accounts) {
    const key = await keyOf(client, account, keyId);
    if (key) return { owner: account, key };
  }
  const searched = more
    ? `your own keys and the first ${MAX_PROBES} service accounts'`
    : `your own keys and every service account's (${accounts.length})`;
  throw new OctopusError(
    "NOT_FOUND",
    `No API key ${keyId} among ${searched} at ${client.serverUrl}; for another user's key, import it as ${ID_FORM}`,
  );
}

/**
 * The key if `user` owns it; undefined when Octopus says otherwise: 404, or 400 "This ApiKey does
 * not belong to the specified user." (the answer for a key id that exists under another user).
 */
async function keyOf(
  client: OctopusClient,
  user: OctopusUser,
  keyId: string,
): Promise<OctopusApiKeyResource | undefined> {
  try {
    return await client.getApiKey(user.Id, keyId);
  } catch (error) {
    if (error instanceof OctopusError && (error.status === 404 || error.status === 400)) {
      return undefined;
    }
    throw error;
  }
}

/**
 * A key whose purpose holds a control or bidirectional formatting character is not imported
 * (BAD_RESPONSE): import stores the purpose and shows it as an input, raw, and no program could
 * declare it, as inputs refuse such characters (../octopus/text). Listings still read such keys.
 */
function refuseShownPurpose(key: OctopusApiKeyResource): void {
  const problem = controlProblem(key.Purpose);
  if (problem) {
    throw new OctopusError(
      "BAD_RESPONSE",
      `The API key ${key.Id} cannot be imported: its purpose ${problem.replace(/: remove it$/, "")}, which would be stored and shown as it is and which no program can declare. Revoke it in Octopus and let this package create its replacement`,
    );
  }
}

function describe(
  key: OctopusApiKeyResource,
  owner: OctopusUser,
  me: OctopusUser,
  serverUrl: string,
): ImportedKey {
  const access = reportedAccess(key);
  const requested = access.accessLevel === "ReadOnly" ? "ReadOnly" : null;
  const actorType = reportedActorType(key);
  const agent = actorType === "AiAgent" ? "AiAgent" : null;
  const mine = owner.Id.toLowerCase() === me.Id.toLowerCase();
  const expires = key.Expires ?? null;
  const hint = typeof key.ApiKey === "object" ? (key.ApiKey?.Hint ?? "") : "";
  const plain = reportedInputs(key);
  const state: ApiKeyState = {
    stateVersion: STATE_VERSION,
    apiKey: "",
    apiKeyId: key.Id,
    userId: owner.Id,
    username: owner.Username,
    purpose: key.Purpose,
    created: key.Created,
    expires,
    hint,
    serverUrl,
    expired: isExpired(expires, now(), 0),
    rotateAt: null,
    ...access,
    actorType,
    ...reportedOf(key),
    retiringKeyId: null,
    retiringKeyExpires: null,
    // The caller's own key stays "the caller's"; another user's is named.
    userSelector: mine ? "me" : "username",
    expiresAt: null,
    expiresIn: null,
    rotateBefore: null,
    rotationTriggers: null,
    requestedAccessLevel: requested,
    requestedActorType: agent,
    connection: null,
    requested: Object.keys(plain).length > 0 ? plain : null,
    clockSkewMs: 0,
    imported: true,
  };
  const inputs: Record<string, unknown> = { purpose: key.Purpose, ...plain };
  if (!mine) inputs.username = owner.Username;
  if (expires !== null) inputs.expiresAt = expires;
  if (requested) inputs.accessLevel = requested;
  if (agent) inputs.actorType = agent;
  return { id: key.Id, state, inputs };
}

/** How far an imported key's lifetime may be from a declared `expiresIn` and still be it. */
const LIFETIME_TOLERANCE_MS = 60_000;
/** How far its expiry may be from a declared `expiresAt` (the create's marker, whole seconds). */
const EXPIRY_TOLERANCE_MS = AT_SLACK_MS + 1_000;

/**
 * An imported state as diff must read it against a program's inputs. Import cannot know how the
 * key was asked for, only what it is: so the program's way of naming the same key is taken as
 * the way it was asked for, and diff then sees no change. Each rule applies only when the key is
 * what the input asks for:
 * - owner: `userId` or `username` naming the owner (compared as diff and the lookup compare them);
 * - expiry: `expiresAt` within {@link EXPIRY_TOLERANCE_MS} of the key's expiry, or `expiresIn`
 *   within {@link LIFETIME_TOLERANCE_MS} of its lifetime (expiry minus creation); no expiry input
 *   at all is "the server's default", whatever the key's expiry;
 * - access level: the level Octopus reports, or none for a full-access key;
 * - actor type: `"AiAgent"` for a key reported so, `"User"` or none for any other.
 * Anything else (another purpose, owner, expiry or level) is left for diff to replace.
 */
export function importedView(state: ApiKeyState, inputs: ApiKeyInputs): ApiKeyState {
  const view = { ...state };
  if (inputs.userId && inputs.userId.toLowerCase() === state.userId.toLowerCase()) {
    view.userSelector = "id";
  } else if (inputs.username && usernameMatch(inputs.username, state.username) !== undefined) {
    view.userSelector = "username";
  }
  const expires = state.expires === null ? undefined : parseTimestamp(state.expires);
  const at = inputs.expiresAt === undefined ? undefined : parseTimestamp(inputs.expiresAt);
  const lifetime = inputs.expiresIn === undefined ? undefined : parseDuration(inputs.expiresIn);
  const created = parseTimestamp(state.created);
  if (expires !== undefined && at !== undefined && Math.abs(expires - at) <= EXPIRY_TOLERANCE_MS) {
    view.expiresAt = inputs.expiresAt ?? null;
  } else if (
    expires !== undefined &&
    lifetime !== undefined &&
    created !== undefined &&
    Math.abs(expires - created - lifetime) <= LIFETIME_TOLERANCE_MS
  ) {
    view.expiresIn = inputs.expiresIn ?? null;
  }
  const level = state.accessLevel;
  if (inputs.accessLevel === "ReadOnly" && level === "ReadOnly") {
    view.requestedAccessLevel = "ReadOnly";
  } else if (inputs.accessLevel === "FullAccess" && (level === "FullAccess" || level === null)) {
    view.requestedAccessLevel = "FullAccess";
  } else if (inputs.accessLevel === undefined && level !== "ReadOnly") {
    view.requestedAccessLevel = null;
  }
  const actor = importedActorType(state.actorType, inputs.actorType);
  if (actor !== undefined) view.requestedActorType = actor;
  return view;
}
