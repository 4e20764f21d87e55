import type { ApiContext, Caller } from "../context";
import {
  MSG_BAD_REQUEST,
  MSG_NO_PERMISSION,
  fail,
  forbidden,
  formatOctopusDate,
  json,
  notFound,
  prop,
  type Reply,
} from "../replies";
import { page, parsePaging, type Route } from "../routing";
import type { KeyRecord, UserRecord } from "../store";

const DAY_MS = 24 * 60 * 60 * 1000;

/** `/api/users/{id}/apikeys` (list, create) and `/api/users/{id}/apikeys/{keyId}` (read, revoke). */
export function apiKeyRoute(
  ctx: ApiContext,
  route: Route,
  query: URLSearchParams,
  caller: Caller,
  body: Buffer,
): Reply {
  const target = ctx.store.findUser(route.userId);
  if (!target) return notFound();
  const self = target === caller.user;
  const writing = route.kind === "keyCreate" || route.kind === "keyRevoke";
  if (!self) {
    if (route.kind === "keyCreate" && !target.isService) {
      // Octopus refuses this even to administrators: a person's key is theirs alone to make.
      return fail(403, MSG_NO_PERMISSION, [
        "API keys can only be created for your own user account or for service accounts.",
      ]);
    }
    if (!caller.user.isAdmin) return forbidden(writing ? "UserEdit" : "UserView");
  }

  switch (route.kind) {
    case "keyList":
      return listKeys(ctx, target, query);
    case "keyCreate":
      return createKey(ctx, target, caller, body);
    case "keyRead": {
      const key = ctx.store.findKey(target, route.keyId);
      return key ? json(200, keyResource(ctx, key)) : notFound();
    }
    case "keyRevoke": {
      const key = ctx.store.findKey(target, route.keyId);
      if (!key) return notFound();
      ctx.store.removeKey(key);
      return json(200, {});
    }
    default:
      return notFound();
  }
}

function listKeys(ctx: ApiContext, user: UserRecord, query: URLSearchParams): Reply {
  const paging = parsePaging(query);
  if ("error" in paging) return paging.error;
  const partial = query.get("partialPurpose") ?? "";
  const needle = partial.toLowerCase();
  const keys = ctx.store.keysNewestFirst(
    (k) => k.userId === user.id && (needle === "" || k.purpose.toLowerCase().includes(needle)),
  );
  const params: Array<[string, string]> = partial !== "" ? [["partialPurpose", partial]] : [];
  return json(
    200,
    page(
      (p) => ctx.link(p),
      "ApiKey",
      keys,
      paging,
      `/api/users/${user.id}/apikeys`,
      "{?skip,take,partialPurpose}",
      params,
      (k) => keyResource(ctx, k),
    ),
  );
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
  const errors: string[] = [];
  const purpose = prop(body, "Purpose").value;
  if (typeof purpose !== "string" || purpose.trim() === "") {
    errors.push("Please provide a purpose for the API key.");
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

  if (expires && (explicit || !ctx.options.legacyNoExpiry)) {
    if (expires.getTime() <= now.getTime()) {
      errors.push("The expiry date must be in the future.");
    } else {
      if (caller.keyExpires && expires.getTime() > caller.keyExpires.getTime()) {
        errors.push(
          "The API key cannot expire after the API key used to create it, which expires " +
            `${formatOctopusDate(caller.keyExpires)}.`,
        );
      }
      const maxDays = ctx.options.maxExpiryDays ?? 366;
      if (!ctx.options.legacyNoExpiry && expires.getTime() > now.getTime() + maxDays * DAY_MS) {
        errors.push(`The expiry date cannot be more than ${maxDays} days in the future.`);
      }
    }
  }
  if (errors.length > 0) return fail(400, MSG_BAD_REQUEST, errors);

  const { record, secret } = ctx.store.insertKey(target, (purpose as string).trim(), expires);
  const created = {
    Id: record.id,
    Purpose: record.purpose,
    UserId: record.userId,
    ApiKey: secret,
    Created: formatOctopusDate(record.created),
    Expires: record.expires ? formatOctopusDate(record.expires) : null,
    Links: { Self: ctx.link(`/api/users/${record.userId}/apikeys/${record.id}`) },
  };
  return { ...json(200, created), createdKey: created };
}

/** The expiry given to a key created with `Expires` omitted or null. */
export function defaultExpiry(ctx: ApiContext, how: "omitted" | "null"): Date | null {
  if (ctx.options.legacyNoExpiry) return null;
  const days =
    how === "omitted" ? (ctx.options.defaultExpiryDays ?? 180) : (ctx.options.maxExpiryDays ?? 366);
  return new Date(ctx.now().getTime() + days * DAY_MS);
}

function keyResource(ctx: ApiContext, key: KeyRecord): Record<string, unknown> {
  return {
    Id: key.id,
    Purpose: key.purpose,
    UserId: key.userId,
    ApiKey: { HasValue: true, Hint: key.hint },
    Created: formatOctopusDate(key.created),
    Expires: key.expires ? formatOctopusDate(key.expires) : null,
    Links: { Self: ctx.link(`/api/users/${key.userId}/apikeys/${key.id}`) },
  };
}
