import type { OctopusUser } from "../octopus/client";
import type { Endpoint } from "../octopus/endpoint";
import { OctopusError } from "../octopus/errors";
import type { Owner } from "./fields";

/** Adds what to do to a failed user lookup. */
export function explainLookup(error: unknown, inputs: Owner, connection?: Endpoint): unknown {
  if (!(error instanceof OctopusError)) return error;
  if (error.status === 404 && inputs.userId) {
    return withAdvice(error, `no user has the id ${inputs.userId}; check userId`);
  }
  if (error.status === 403 && (inputs.userId || inputs.username)) {
    return withAdvice(
      error,
      "looking up another user needs the UserView permission; use an administrator's API key, or give the key's owner's own credentials and omit userId/username",
    );
  }
  return explainCommon(error, connection);
}

/** Adds what to do to a refused create. `expires` is undefined when the server's default was left. */
export function explainCreate(
  error: unknown,
  user: OctopusUser,
  expires: string | undefined,
  self: boolean,
  connection?: Endpoint,
): unknown {
  if (!(error instanceof OctopusError)) return error;
  const who = `${user.Username} (${user.Id})`;
  if (error.status === 403) {
    if (self) {
      return withAdvice(
        error,
        `you may not create API keys for your own user: an administrator may have turned off API keys for users (the server setting UserApiKeysEnabled, Octopus 2023.2+), which does not block service accounts' keys. Create the key for a service account instead (set username or userId to it and authenticate as an administrator), or ask an administrator to turn UserApiKeysEnabled back on`,
      );
    }
    if (user.IsService === false) {
      return withAdvice(
        error,
        `Octopus only issues API keys for yourself or for service accounts, and ${who} is not a service account (if it is your own user, an administrator may have turned off user API keys with the server setting UserApiKeysEnabled, Octopus 2023.2+). Create the key with ${user.Username}'s own credentials and without userId/username, or use a service account`,
      );
    }
    if (user.IsService) {
      return withAdvice(
        error,
        `creating keys for the service account ${who} needs an administrator (permission UserEdit); use an administrator's API key`,
      );
    }
  }
  if (error.status === 400) {
    const reasons = error.errors.length > 0 ? error.errors : [error.message];
    if (expires === undefined && reasons.some((reason) => /expir/i.test(reason))) {
      return withAdvice(error, DEFAULT_EXPIRY_TRAP);
    }
    const rules = new Set(reasons.map((reason) => expiryRule(reason, expires)));
    rules.delete(undefined);
    if (rules.size > 0) return withAdvice(error, [...rules].join("; "));
  }
  return explainCommon(error, connection);
}

/**
 * Octopus 2025.4+ gives every key an expiry (180 days by default), and refuses a key that would
 * expire after the key that creates it: an administrator's key made with the default has less
 * than 180 days left, so a create that leaves the expiry to the server can be refused. Before
 * 2025.4 the default is no expiry at all, which outlives any key that expires (go-octopusdeploy
 * issue #109).
 */
const DEFAULT_EXPIRY_TRAP =
  "this create left the expiry to the server's default (180 days on Octopus 2025.4 and later; no expiry at all before), and Octopus refused that expiry — most likely because a new key may not expire after the key that creates it, and the key in use expires sooner. Use expiresIn (for example 90d, shorter than what is left of the key in use) on the resource, or a longer-lived admin key (before Octopus 2025.4, only a key that never expires)";

/**
 * Which of Octopus's expiry rules a 400 reason names, as advice: beyond the server's maximum;
 * after the expiry of the key making the request; in the past. Octopus's own reason is in the
 * message too, so an unrecognised wording loses only the advice.
 */
function expiryRule(reason: string, expires: string | undefined): string | undefined {
  const text = reason.toLowerCase();
  if (/maxim|more than \d+ days|longer than|exceeds? the/.test(text)) {
    return "the expiry is beyond the server's maximum key lifetime (366 days by default, set by an administrator): use a shorter expiresIn/expiresAt";
  }
  if (/(key|credential).*(used to create|making the request|authenticat)|outlive/.test(text)) {
    return "a new key cannot expire after the API key that creates it: use a shorter expiresIn/expiresAt, or authenticate with a key that expires later";
  }
  if (/past|future/.test(text)) {
    return `the expiry (${expires ?? "the server's default"}) is not in the future by the server's clock: choose a later expiresAt, use expiresIn, or check this machine's clock`;
  }
  if (/purpose/.test(text)) return "give a purpose that Octopus accepts";
  return undefined;
}

/**
 * Adds what to do to a failed refresh or revoke of a stored key. A 400 there is Octopus saying
 * the key does not belong to the user the state names (a key id that exists under another user):
 * the key is not gone, so the resource stays.
 */
export function explainStoredKey(
  error: unknown,
  keyId: string,
  userId: string,
  connection?: Endpoint,
): unknown {
  if (error instanceof OctopusError && error.status === 400) {
    return withAdvice(
      error,
      `the state says ${keyId} belongs to ${userId}, and Octopus says it does not: the state was edited or copied from another resource. Nothing was revoked and the resource stays; restore the state's userId, or remove the resource from state (pulumi state delete) and revoke the key in Octopus if it is not in use`,
    );
  }
  return explainCommon(error, connection);
}

/**
 * Advice for answers any call can get. With the connection, a refused credential is named by
 * where it came from, and an access token (which lives about an hour) is told from an API key.
 */
export function explainCommon(error: unknown, connection?: Endpoint): unknown {
  if (!(error instanceof OctopusError)) return error;
  switch (error.status) {
    case 401:
      return withAdvice(error, unauthenticated(connection));
    case 403:
      return withAdvice(
        error,
        "the credentials lack a permission this needs; use an account that has it",
      );
    case 429:
      return withAdvice(error, "Octopus is rate limiting this client; wait and run again");
    default:
      return error;
  }
}

function unauthenticated(connection: Endpoint | undefined): string {
  const from = connection?.labels?.credential;
  if (connection?.credential.kind === "accessToken") {
    return `the access token${from ? ` (from ${from})` : ""} was refused. Octopus access tokens expire about an hour after they are issued, so it has most likely expired: re-authenticate to get a new token (as the job that issued this one did) and set it${from ? ` in ${from}` : ""}, then run again; a long-lived alternative is an API key`;
  }
  if (connection) {
    return `the API key${from ? ` (from ${from})` : ""} was refused by ${connection.serverUrl}: check that it is a key for this server, unexpired and not revoked, and that its user is active`;
  }
  return "check that the API key or access token (connection.apiKey, octopusdeploy:apiKey, OCTOPUS_API_KEY) is valid, unexpired and belongs to an active user";
}

/**
 * `error` with advice added to its message; everything else it carries (status, request, Octopus's
 * reasons and help text) is kept, and the original is its cause.
 */
export function withAdvice(error: OctopusError, advice: string): OctopusError {
  return new OctopusError(
    error.code,
    `${error.message.replace(/\.+$/, "")}. ${advice[0].toUpperCase()}${advice.slice(1)}.`,
    {
      status: error.status,
      method: error.method,
      path: error.path,
      errors: error.errors,
      helpText: error.helpText,
      cause: error,
    },
  );
}
