/**
 * The server's API key policy, as `GET /api/authentication` publishes it (REST reference
 * `authentication.md`; Octopus.Client's `AuthenticationConfigResource`): the default and maximum
 * lifetime of a key (2025.4 and later) and whether users other than service accounts may have
 * keys (2023.2 and later). The route needs no credential: the sign-in page reads it.
 *
 * Read leniently: a field that is missing, or not what Octopus sends, is left out, so that the
 * caller falls back to what it does without a policy. Nothing here ever fails a call.
 */

/** What the server says about keys; every field may be missing (an older server, a proxy). */
export interface KeyPolicy {
  /** `ApiKeyDefaultExpiryDays`: the lifetime of a key made without an expiry. */
  defaultExpiryDays?: number;
  /** `ApiKeyMaxExpiryDays`: the longest lifetime the server accepts. */
  maxExpiryDays?: number;
  /** `UserApiKeysEnabled`: false when only service accounts may have keys. */
  userApiKeysEnabled?: boolean;
}

/** A lifetime in days Octopus could mean: a whole number from 1 to a century. */
function days(value: unknown): number | undefined {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 1 && value <= 36_525
    ? value
    : undefined;
}

/** The policy in an answer to `GET /api/authentication`; `{}` when it holds none. */
export function asKeyPolicy(answer: unknown): KeyPolicy {
  if (typeof answer !== "object" || answer === null || Array.isArray(answer)) return {};
  const fields = answer as Record<string, unknown>;
  const policy: KeyPolicy = {};
  const defaultDays = days(fields.ApiKeyDefaultExpiryDays);
  if (defaultDays !== undefined) policy.defaultExpiryDays = defaultDays;
  const maxDays = days(fields.ApiKeyMaxExpiryDays);
  if (maxDays !== undefined) policy.maxExpiryDays = maxDays;
  if (typeof fields.UserApiKeysEnabled === "boolean") {
    policy.userApiKeysEnabled = fields.UserApiKeysEnabled;
  }
  return policy;
}
