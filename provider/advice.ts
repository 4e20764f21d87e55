import type { OctopusUser } from "./client";
import { OctopusError } from "./errors";
import type { ApiKeyInputs } from "./inputs";

/** Adds what to do to a failed user lookup. */
export function explainLookup(error: unknown, inputs: ApiKeyInputs): unknown {
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
  return explainCommon(error);
}

/** Adds what to do to a refused create. */
export function explainCreate(
  error: unknown,
  user: OctopusUser,
  expires: string | undefined,
  self: boolean,
): unknown {
  if (!(error instanceof OctopusError)) return error;
  const who = `${user.Username} (${user.Id})`;
  if (error.status === 403) {
    if (self) {
      return withAdvice(
        error,
        "you may not create API keys for your own user; an administrator may have turned off API keys for users (Octopus 2023.2+): use a service account instead",
      );
    }
    if (user.IsService === false) {
      return withAdvice(
        error,
        `Octopus only issues API keys for yourself or for service accounts, and ${who} is not a service account (unless it is your own user, whose keys an administrator may have turned off). Create the key with ${user.Username}'s own credentials and without userId/username, or make it a service account`,
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
    const rules = new Set(error.errors.map((reason) => expiryRule(reason, expires)));
    rules.delete(undefined);
    if (rules.size > 0) return withAdvice(error, [...rules].join("; "));
  }
  return explainCommon(error);
}

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

export function explainCommon(error: unknown): unknown {
  if (!(error instanceof OctopusError)) return error;
  switch (error.status) {
    case 401:
      return withAdvice(
        error,
        "check that the API key or access token (connection.apiKey, octopusdeploy:apiKey, OCTOPUS_API_KEY) is valid, unexpired and belongs to an active user",
      );
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

function withAdvice(error: OctopusError, advice: string): OctopusError {
  return new OctopusError(
    error.code,
    `${error.message.replace(/\.+$/, "")}. ${advice[0].toUpperCase()}${advice.slice(1)}.`,
    {
      status: error.status,
      method: error.method,
      path: error.path,
      errors: error.errors,
    },
  );
}
