import type { ApiContext, Caller } from "../context";
import type { AccessLevel } from "../options";
import {
  MSG_BAD_REQUEST,
  MSG_NO_PERMISSION,
  fail,
  forbidden,
  formatOctopusDate,
  json,
  notFound,
  prop,
  securityFail,
  type Reply,
} from "../replies";
import { page, parsePaging, type Route } from "../routing";
import type { KeyRecord, UserRecord } from "../store";

const DAY_MS = 24 * 60 * 60 * 1000;

/** The 403 reason when someone asks for a key of another user who is not a service account. */
export const OTHER_USER_REASON =
  "API keys can only be created for your own user account or for service accounts.";

/**
 * The 403 reason when the "User API Keys" setting is off (docs: "Disabling API key creation for
 * user accounts", 2023.2). The real wording is not documented; this one names the setting.
 */
export const USER_API_KEYS_DISABLED_REASON =
  "API key creation for user accounts has been disabled by an administrator (Configuration > " +
  "Settings > Authentication > User API Keys, UserApiKeysEnabled). API keys can still be " +
  "created for service accounts.";

/**
 * The 400 for a key id that exists under another user than the path's: the text is the one
 * Octopus' published swagger lists for `GET` and `DELETE /api/users/{userId}/apikeys/{id}`.
 */
export const WRONG_OWNER_MESSAGE = "This ApiKey does not belong to the specified user.";

const ACCESS_LEVELS: readonly AccessLevel[] = ["FullAccess", "ReadOnly", "Custom"];
const ACTOR_TYPES = ["User", "AiAgent"] as const;

/** `/api/users/{id}/apikeys` (list, create) and `/api/users/{id}/apikeys/{keyId}` (read, revoke). */
export function apiKeyRoute(
  ctx: ApiContext,
  route: Route,
  query: URLSearchParams,
  caller: Caller,
  body: Buffer,
): Reply {
  const style = ctx.options.errorBodies ?? "errors";
  const target = ctx.store.findUser(route.userId);
  if (!target) return notFound();
  const self = target === caller.user;
  const writing = route.kind === "keyCreate" || route.kind === "keyRevoke";
  if (!self) {
    if (route.kind === "keyCreate" && !target.isService) {
      // Octopus refuses this even to administrators: a person's key is theirs alone to make.
      return securityFail(style, 403, MSG_NO_PERMISSION, { reasons: [OTHER_USER_REASON] });
    }
    if (!caller.user.isAdmin) return forbidden(style, writing ? "UserEdit" : "UserView");
  }

  switch (route.kind) {
    case "keyList":
      return listKeys(ctx, target, query);
    case "keyCreate":
      if (!ctx.settings.userApiKeysEnabled && !target.isService) {
        return securityFail(style, 403, MSG_NO_PERMISSION, {
          reasons: [USER_API_KEYS_DISABLED_REASON],
          details: { Setting: "UserApiKeysEnabled" },
        });
      }
      return createKey(ctx, target, caller, body);
    case "keyRead": {
      const key = ownKey(ctx, target, route.keyId);
      return "reply" in key ? key.reply : json(200, keyResource(ctx, key.key));
    }
    case "keyRevoke": {
      const key = ownKey(ctx, target, route.keyId);
      if ("reply" in key) return key.reply;
      ctx.store.removeKey(key.key);
      return revokeAnswer(ctx);
    }

    default:
      return notFound();
  }
}

/**
 * The key `keyId` of `user`; else 404, or 400 when the id is another user's key (Octopus'
 * published swagger lists "This ApiKey does not belong to the specified user." as a 400 of both
 * routes; `wrongOwnerAnswer: "notFound"` answers 404 instead).
 */
function ownKey(
  ctx: ApiContext,
  user: UserRecord,
  keyId: string | undefined,
): { key: KeyRecord } | { reply: Reply } {
  const key = keyId === undefined ? undefined : ctx.store.keyById(keyId);
  if (key && key.userId === user.id) return { key };
  if (key && (ctx.options.wrongOwnerAnswer ?? "badRequest") === "badRequest") {
    return { reply: fail(400, WRONG_OWNER_MESSAGE) };
  }
  return { reply: notFound() };
}

/**
 * The REST reference documents `200` with `{}`; the real body and content type are not, and
 * clients (Octopus.Client, go-octopusdeploy, api-client.ts) accept an empty one.
 */
function revokeAnswer(ctx: ApiContext): Reply {
  switch (ctx.options.deleteAnswer ?? "json") {
    case "noContent204":
      return { status: 204, body: "", contentType: null };
    case "empty200":
      return { status: 200, body: "", contentType: null };
    default:
      return json(200, {});
  }
}

/**
 * The key list (REST reference: "returning the most recent results first"), narrowed by
 * `partialPurpose` (a case-insensitive fragment of the purpose) and `partialKeyword` (of the
 * purpose or the hint), unless `keyListFilters` is "ignored"; `keyListOrder` may change the order.
 */
function listKeys(ctx: ApiContext, user: UserRecord, query: URLSearchParams): Reply {
  const paging = parsePaging(query);
  if ("error" in paging) return paging.error;
  const honoured = (ctx.options.keyListFilters ?? "honoured") === "honoured";
  const params: Array<[string, string]> = [];
  const needles: Array<(key: KeyRecord) => boolean> = [];
  for (const name of ["partialPurpose", "partialKeyword"] as const) {
    const value = query.get(name) ?? "";
    if (value === "") continue;
    params.push([name, value]);
    const needle = value.toLowerCase();
    if (!honoured) continue;
    needles.push(
      name === "partialPurpose"
        ? (k) => k.purpose.toLowerCase().includes(needle)
        : (k) => k.purpose.toLowerCase().includes(needle) || k.hint.toLowerCase().includes(needle),
    );
  }
  const keys = ordered(
    ctx,
    ctx.store.keysNewestFirst((k) => k.userId === user.id && needles.every((n) => n(k))),
  );
  return json(
    200,
    page(
      (p) => ctx.link(p),
      "ApiKey",
      keys,
      paging,
      `/api/users/${user.id}/apikeys`,
      "{?skip,take,partialPurpose,partialKeyword}",
      params,
      (k) => keyResource(ctx, k),
    ),
  );
}

/** Keys (given newest first) in the order `keyListOrder` asks for. */
function ordered(ctx: ApiContext, newestFirst: KeyRecord[]): KeyRecord[] {
  switch (ctx.options.keyListOrder ?? "newestFirst") {
    case "oldestFirst":
      return newestFirst.reverse();
    case "byId":
      // Stable from one request to the next (so paging stays consistent), unrelated to time.
      return newestFirst.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    default:
      return newestFirst;
  }
}

/** Reads an enum the way Octopus' model binding does: by name, case-insensitively; null = default. */
function enumProp<T extends string>(
  body: Record<string, unknown>,
  name: string,
  allowed: readonly T[],
  fallback: T,
  errors: string[],
): T {
  const { value } = prop(body, name);
  if (value === undefined || value === null) return fallback;
  const match =
    typeof value === "string"
      ? allowed.find((a) => a.toLowerCase() === value.toLowerCase())
      : undefined;
  if (match === undefined) {
    errors.push(`The ${name} must be one of ${allowed.join(", ")}.`);
    return fallback;
  }
  return match;
}

function createKey(ctx: ApiContext, target: UserRecord, caller: Caller, raw: Buffer): Reply {
  let parsed: unknown = {};
  const text = raw.toString("utf8").trim();
  if (text !== "") {
    try {
      parsed = JSON.parse(text);
    } catch {
      return fail(400, MSG_BAD_REQUEST, ["The request body could not be parsed as JSON."]);
    }
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return fail(400, MSG_BAD_REQUEST, ["The request body must be a JSON object."]);
  }
  const body = parsed as Record<string, unknown>;
  const rules = ctx.rules;
  const errors: string[] = [];
  const purpose = prop(body, "Purpose").value;
  if (typeof purpose !== "string" || purpose.trim() === "") {
    errors.push("Please provide a purpose for the API key.");
  }
  // The REST reference marks `UserId` required in the body; the path names the user too. Octopus
  // ids compare case-insensitively. Clients that omit it (Octopus.Client) still work.
  const userId = prop(body, "UserId").value;
  if (
    userId !== undefined &&
    userId !== null &&
    (typeof userId !== "string" || userId.toLowerCase() !== target.id.toLowerCase())
  ) {
    errors.push(
      `The UserId in the request body does not match the user the key is for (${target.id}).`,
    );
  }
  let accessLevel: AccessLevel = "FullAccess";
  let actorType: (typeof ACTOR_TYPES)[number] = "User";
  if (rules.keyAccessFields) {
    accessLevel = enumProp(body, "AccessLevel", ACCESS_LEVELS, "FullAccess", errors);
    // A server that ignores the field (OctopusDeploy/Issues #10066 puts AI-agent keys behind a
    // feature toggle) makes every key a "User" key, whatever the body says.
    if ((ctx.options.actorTypeOnCreate ?? "honoured") === "honoured") {
      actorType = enumProp(body, "ActorType", ACTOR_TYPES, "User", errors);
    }
    if (accessLevel === "Custom") {
      // Custom keys carry access scopes, which the emulator does not model; what the real
      // server does with a scope-less Custom request is not documented.
      errors.push("An API key with Custom access needs at least one access scope.");
    }
  }

  const now = ctx.now();
  const expiresProp = prop(body, "Expires");
  let expires: Date | null;
  let explicit = false;
  if (!expiresProp.present || expiresProp.value === undefined) {
    expires = defaultExpiry(ctx, "omitted");
  } else if (expiresProp.value === null) {
    expires = defaultExpiry(ctx, "null");
  } else {
    explicit = true;
    const value = expiresProp.value;
    const ms = typeof value === "string" && value.trim() !== "" ? Date.parse(value) : NaN;
    if (Number.isNaN(ms)) {
      errors.push(`The expiry date '${String(value)}' could not be parsed as a date and time.`);
      expires = null;
    } else {
      expires = new Date(ms);
    }
  }

  if (expires && explicit) {
    if (expires.getTime() <= now.getTime()) {
      errors.push("The expiry date must be in the future.");
    } else {
      if (caller.keyExpires && expires.getTime() > caller.keyExpires.getTime()) {
        errors.push(beyondCaller(caller.keyExpires));
      }
      const maxDays = rules.maxExpiryDays;
      if (maxDays !== null && expires.getTime() > now.getTime() + maxDays * DAY_MS) {
        errors.push(`The expiry date cannot be more than ${maxDays} days in the future.`);
      }
    }
  } else if (
    !explicit &&
    caller.keyExpires &&
    (expires === null || expires.getTime() > caller.keyExpires.getTime())
  ) {
    // A defaulted expiry (never, before 2025.4) later than the caller's own key's. Before 2025.4
    // the create is refused (go-octopusdeploy issue #109); what 2025.4+ does is not documented.
    const how =
      rules.defaultVsCallerKey === "refuse"
        ? "refuse"
        : (ctx.options.defaultExpiryVsCaller ?? "refuse");
    if (how === "clip") expires = caller.keyExpires;
    else errors.push(beyondCaller(caller.keyExpires));
  }
  if (errors.length > 0) return fail(400, MSG_BAD_REQUEST, errors);

  const { record, secret } = ctx.store.insertKey(
    target,
    (purpose as string).trim(),
    stored(ctx, expires),
    {
      accessLevel,
      actorType,
      lastUsedKnown: true,
      createdBy: caller.user.username,
    },
  );
  const created: Record<string, unknown> = {
    Id: record.id,
    Purpose: record.purpose,
    UserId: record.userId,
    ApiKey: secret,
    Created: formatOctopusDate(record.created),
    Expires: record.expires ? formatOctopusDate(record.expires) : null,
  };
  if (rules.keyAccessFields) {
    // The reference's ApiKeyCreatedResource lists these, but not AccessLevel.
    if (ctx.options.createdAnswerAccessLevel) created.AccessLevel = record.accessLevel;
    Object.assign(created, accessFields(record, false));
  }
  created.Links = { Self: ctx.link(`/api/users/${record.userId}/apikeys/${record.id}`) };
  return { ...json(200, created), createdKey: created };
}

function beyondCaller(callerExpires: Date): string {
  return (
    "The API key cannot expire after the API key used to create it, which expires " +
    `${formatOctopusDate(callerExpires)}.`
  );
}

/** An expiry as the server keeps it: to the millisecond, cut to whole seconds, or as `datetime`. */
function stored(ctx: ApiContext, expires: Date | null): Date | null {
  if (!expires) return expires;
  switch (ctx.options.expiresPrecision ?? "ms") {
    case "s":
      return new Date(Math.floor(expires.getTime() / 1000) * 1000);
    case "datetime":
      return new Date(roundToDatetime(expires.getTime()));
    default:
      return expires;
  }
}

/**
 * Milliseconds as SQL Server's `datetime` keeps them: in 1/300 s units, shown "rounded to
 * increments of .000, .003, or .007 seconds" (Microsoft, "datetime (Transact-SQL)"): a last
 * digit of 0 or 1 becomes 0; 2, 3 or 4 becomes 3; 5 to 8 becomes 7; 9 rounds up to the next 0
 * (.999 is the next second's .000).
 */
export function roundToDatetime(ms: number): number {
  const last = ((ms % 10) + 10) % 10;
  const to = last <= 1 ? 0 : last <= 4 ? 3 : last <= 8 ? 7 : 10;
  return ms - last + to;
}

/** The expiry given to a key created with `Expires` omitted or null, by the profile's rules. */
export function defaultExpiry(ctx: ApiContext, how: "omitted" | "null"): Date | null {
  const { defaultExpiryDays, nullExpiry, maxExpiryDays } = ctx.rules;
  const days =
    how === "omitted" ? defaultExpiryDays : nullExpiry === "never" ? null : maxExpiryDays;
  return days === null ? null : new Date(ctx.now().getTime() + days * DAY_MS);
}

/** 2026.3 key fields (REST reference api-keys: ApiKeyResource / ApiKeyCreatedResource). */
function accessFields(key: KeyRecord, withAccessLevel: boolean): Record<string, unknown> {
  return {
    ...(withAccessLevel ? { AccessLevel: key.accessLevel } : {}),
    ActorType: key.actorType,
    IsLastUsedTimestampKnown: key.lastUsedKnown,
    LastUsedTimeStamp: key.lastUsed ? formatOctopusDate(key.lastUsed) : null,
    LastModifiedBy: key.createdBy,
    LastModifiedOn: formatOctopusDate(key.created),
  };
}

function keyResource(ctx: ApiContext, key: KeyRecord): Record<string, unknown> {
  return {
    Id: key.id,
    Purpose: key.purpose,
    UserId: key.userId,
    ApiKey: { HasValue: true, Hint: key.hint },
    Created: formatOctopusDate(key.created),
    Expires: key.expires ? formatOctopusDate(key.expires) : null,
    ...(ctx.rules.keyAccessFields ? accessFields(key, true) : {}),
    Links: { Self: ctx.link(`/api/users/${key.userId}/apikeys/${key.id}`) },
  };
}
