import type { ProfileName } from "./profiles";

/** The emulator's public option and result types (re-exported by ./server). */

/** How `DELETE …/apikeys/{id}` answers: the reference's `200 {}`, a bare 204, or an empty 200. */
export type DeleteAnswer = "json" | "noContent204" | "empty200";

/** An API key's access level (2026.3+). */
export type AccessLevel = "FullAccess" | "ReadOnly" | "Custom";

/**
 * How a stored `Expires` keeps time: to the millisecond, cut to whole seconds, or rounded as SQL
 * Server's `datetime` type rounds (to 1/300 s: stored milliseconds end in 0, 3 or 7).
 */
export type ExpiresPrecision = "ms" | "s" | "datetime";

/** The order of `GET /api/users/{id}/apikeys`: the reference's newest first, or another one. */
export type KeyListOrder = "newestFirst" | "oldestFirst" | "byId";

/**
 * Who may read `GET /api/authentication`: anyone (as documented), only callers with valid
 * credentials (401 otherwise), only administrators (401 / 403 otherwise), or nobody (404: a server
 * without the endpoint).
 */
export type AuthenticationEndpoint = "anonymous" | "authenticated" | "administrators" | "missing";

export interface EmulatorOptions {
  /** Default "127.0.0.1". */
  host?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /** Emulates a server hosted under a path prefix, e.g. "/octopus"; default "". */
  basePath?: string;
  /** Extra filler users to seed: "user-00001"…; default 0. */
  users?: number;
  /** Delay added to every request before it is processed (simulated round trip); default 0. */
  latencyMs?: number;
  /** Injectable clock; default real time. */
  now?: () => Date;
  /**
   * The Octopus version to behave like (see ./profiles and emulator/README.md); default "2026.3".
   */
  profile?: ProfileName;
  /**
   * Expiry of a key created without `Expires`; default the profile's (180 days from 2025.4;
   * never on "2025.3", where setting this emulates the docs' "2025.3 and below … 180 days").
   */
  defaultExpiryDays?: number;
  /** Expiry of a key created with `Expires: null` (2025.4+), and the latest allowed; default 366 days. */
  maxExpiryDays?: number;
  /** @deprecated Use `profile: "2025.3"`; when `profile` is unset, true selects it. */
  legacyNoExpiry?: boolean;
  /** Server version shown at /api; default the profile's (e.g. "2026.3.5000"). */
  version?: string;
  /** How a revoke answers (the real body is undocumented); default "json" (`200 {}`). */
  deleteAnswer?: DeleteAnswer;
  /**
   * 2025.4+: what an omitted/null expiry later than the caller's own key's expiry does: refused
   * with 400, or silently shortened to the caller's expiry (the real behaviour is unknown);
   * default "refuse".
   */
  defaultExpiryVsCaller?: "refuse" | "clip";
  /**
   * Whether a stored `Expires` keeps milliseconds ("ms", default), is cut to whole seconds ("s"),
   * or is rounded to SQL Server `datetime`'s 1/300 s ("datetime": .xx0, .xx3 or .xx7).
   */
  expiresPrecision?: ExpiresPrecision;
  /**
   * Milliseconds added to the server clock in the `Date` response header only, as a reverse proxy
   * that stamps its own `Date` (nginx does by default) off by that much; default 0. May be negative.
   */
  dateHeaderOffsetMs?: number;
  /**
   * 401/403 bodies: `ErrorMessage` + `Errors` ("errors", default), or `ErrorMessage` + `HelpText`
   * + `Details` + `FullException` (a fake server stack trace) and no `Errors` ("helpText").
   */
  errorBodies?: "errors" | "helpText";
  /** Order of the key list; default "newestFirst" (REST reference). "byId" is stable but arbitrary. */
  keyListOrder?: KeyListOrder;
  /**
   * Whether the key list honours `partialPurpose` and `partialKeyword` ("honoured", default) or
   * ignores them and lists every key, as a server that predates them would.
   */
  keyListFilters?: "honoured" | "ignored";
  /**
   * How `GET`/`DELETE /api/users/{id}/apikeys/{keyId}` answer for a key that exists under another
   * user: 400 "This ApiKey does not belong to the specified user." ("badRequest", default; Octopus'
   * published swagger) or 404 ("notFound").
   */
  wrongOwnerAnswer?: "badRequest" | "notFound";
  /** Who may read `GET /api/authentication`; default "anonymous" (see {@link AuthenticationEndpoint}). */
  authenticationEndpoint?: AuthenticationEndpoint;
  /**
   * Whether the server has the 2023.2+ "User API Keys" setting; default true. False emulates an
   * older server: `/api/authentication` has no `UserApiKeysEnabled` and users can always make keys
   * for themselves (so `userApiKeysEnabled: false` is refused).
   */
  userApiKeysSetting?: boolean;
  /**
   * 2026.3: whether `ActorType` in the create body is honoured ("honoured", default) or ignored,
   * every key reporting "User", as a server with its AI-agent feature toggle off might.
   */
  actorTypeOnCreate?: "honoured" | "ignored";
  /**
   * The 2023.2+ "User API Keys" setting (`UserApiKeysEnabled`); default true. When false, a user
   * who is not a service account is refused (403) a key for themself. Also `setUserApiKeysEnabled`.
   */
  userApiKeysEnabled?: boolean;
  /** Lifetime of tokens from `issueAccessToken` without an explicit expiry; default 1 hour. */
  accessTokenLifetimeMs?: number;
  /**
   * 2026.3: whether the create answer carries `AccessLevel`. The REST reference's
   * `ApiKeyCreatedResource` has no such field, so the default is false: read it with a GET.
   */
  createdAnswerAccessLevel?: boolean;
  /**
   * PRNG seed for ids, secrets and random faults (deterministic tests). It makes the seeded keys,
   * the administrator's included, predictable: refused unless the server listens on loopback only.
   */
  seed?: number;
}

export interface SeededUser {
  id: string;
  username: string;
  /** A valid key secret of that user ("" when none was made, e.g. for added service accounts). */
  apiKey: string;
  isService: boolean;
  isAdmin: boolean;
  /**
   * Octopus' internal identification token of the user, which `GET /api/users?filter=` matches
   * (REST reference); not part of the user resource.
   */
  identificationToken: string;
}

export interface LiveKey {
  Id: string;
  UserId: string;
  Purpose: string;
  Created: string;
  Expires: string | null;
  /** `Expires` as stored, `Date.toISOString()` form (milliseconds kept, or ".000" when cut to seconds). */
  expires: string | null;
  /** The key's access level; null on profiles before 2026.3, which have none. */
  accessLevel: AccessLevel | null;
  /** When the key last authenticated a request (ISO), or null. Tracked on every profile. */
  lastUsed: string | null;
}

export interface EmulatorStats {
  requests: number;
  /** Keyed like "GET /api/users/{id}/apikeys"; unmatched requests as "GET (other)". */
  byRoute: Record<string, number>;
  /** Response body bytes actually written. */
  bytesOut: number;
  /** Request body bytes received. */
  bytesIn: number;
}
