import type { ApiContext, Caller } from "../context";
import { forbidden, json, notFound, type Reply } from "../replies";
import { page, parsePaging, type Route } from "../routing";
import type { UserRecord } from "../store";

/** `/api/users/me`, `/api/users/{id}`, `/api/users?filter=…` and `/api/users/all`. */
export function userRoute(
  ctx: ApiContext,
  route: Route,
  query: URLSearchParams,
  caller: Caller,
): Reply {
  switch (route.kind) {
    case "me":
      return json(200, userResource(ctx, caller.user, caller));
    case "user": {
      const target = ctx.store.findUser(route.userId);
      if (!target) return notFound();
      if (target !== caller.user && !caller.user.isAdmin)
        return forbidden(ctx.options.errorBodies ?? "errors", "UserView");
      return json(200, userResource(ctx, target, caller));
    }
    case "userList":
      if (!caller.user.isAdmin) return forbidden(ctx.options.errorBodies ?? "errors", "UserView");
      return listUsers(ctx, query, caller);
    case "userAll":
      if (!caller.user.isAdmin) return forbidden(ctx.options.errorBodies ?? "errors", "UserView");
      return json(
        200,
        [...ctx.store.allUsers()].map((u) => userResource(ctx, u, caller)),
      );
    default:
      return notFound();
  }
}

function listUsers(ctx: ApiContext, query: URLSearchParams, caller: Caller): Reply {
  const paging = parsePaging(query);
  if ("error" in paging) return paging.error;
  const filter = (query.get("filter") ?? "").toLowerCase();
  const ids = (query.get("ids") ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== "");
  const idSet = ids.length > 0 ? new Set(ids) : undefined;
  const matches: UserRecord[] = [];
  for (const user of ctx.store.allUsers()) {
    if (idSet && !idSet.has(user.id.toLowerCase())) continue;
    if (filter !== "" && !user.search.includes(filter)) continue;
    matches.push(user);
  }
  const params: Array<[string, string]> = [];
  if (ids.length > 0) params.push(["ids", query.get("ids") ?? ""]);
  if (filter !== "") params.push(["filter", query.get("filter") ?? ""]);
  return json(
    200,
    page(
      (p) => ctx.link(p),
      "User",
      matches,
      paging,
      "/api/users",
      "{?skip,take,ids,filter}",
      params,
      (u) => userResource(ctx, u, caller),
    ),
  );
}

function userResource(ctx: ApiContext, user: UserRecord, caller: Caller): Record<string, unknown> {
  const self = `/api/users/${user.id}`;
  return {
    Id: user.id,
    Username: user.username,
    DisplayName: user.displayName,
    IsActive: user.isActive,
    IsService: user.isService,
    EmailAddress: user.email,
    CanPasswordBeEdited: !user.isService,
    IsRequestor: user === caller.user,
    Identities: [],
    Links: {
      Self: ctx.link(self),
      Permissions: ctx.link(`${self}/permissions`),
      ApiKeys: ctx.link(`${self}/apikeys{/id}{?skip,take}`),
      Avatar: user.avatar,
    },
  };
}
