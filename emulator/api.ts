import type { IncomingHttpHeaders } from "node:http";
import { authenticate } from "./auth";
import type { ApiContext, Caller } from "./context";
import {
  HTML_TYPE,
  MSG_NO_PERMISSION,
  MSG_UNAUTHENTICATED,
  fail,
  loginPage,
  notFound,
  securityFail,
  type ErrorStyle,
  type Reply,
} from "./replies";
import type { Route } from "./routing";
import { apiKeyRoute } from "./routes/apikeys";
import { authenticationRoute, rootRoute } from "./routes/root";
import { userRoute } from "./routes/users";

/** Methods a read-only key may use: Octopus' read-only keys "can not perform modifications". */
const READ_METHODS = new Set(["GET", "HEAD"]);

/** The refusal a read-only key gets for a write. The real wording is not documented. */
export const READ_ONLY_REASON =
  "This API key has read-only access: it can view what its user can view, but cannot make changes.";

/** Answers a routed request: the portal, the root, then authentication and the resource's routes. */
export function dispatch(
  ctx: ApiContext,
  route: Route,
  query: URLSearchParams,
  headers: IncomingHttpHeaders,
  body: Buffer,
): Reply {
  const style = ctx.options.errorBodies ?? "errors";
  switch (route.kind) {
    case "portal":
      return { status: 200, contentType: HTML_TYPE, body: loginPage() };
    case "root":
      return rootRoute(ctx);
    case "authentication":
      return authenticationRoute(
        ctx,
        (ctx.options.authenticationEndpoint ?? "anonymous") === "anonymous"
          ? undefined
          : authenticate(ctx, query, headers),
      );
    case "apiNotFound":
      return notFound();
    case "methodNotAllowed": {
      // A read-only key's write is refused whatever the route, as a read-only key "can not
      // perform modifications"; anyone else learns the method is not supported.
      const caller = READ_METHODS.has(route.method) ? undefined : authenticate(ctx, query, headers);
      if (caller && isReadOnlyWrite(ctx, caller, route)) return readOnlyRefusal(style);
      return fail(
        405,
        `The requested resource does not support http method '${route.name.split(" ")[0]}'.`,
      );
    }
    default:
      break;
  }

  const caller = authenticate(ctx, query, headers);
  if (!caller) return securityFail(style, 401, MSG_UNAUTHENTICATED);
  if (isReadOnlyWrite(ctx, caller, route)) return readOnlyRefusal(style);

  switch (route.kind) {
    case "me":
    case "user":
    case "userList":
    case "userAll":
      return userRoute(ctx, route, query, caller);
    default:
      return apiKeyRoute(ctx, route, query, caller, body);
  }
}

function isReadOnlyWrite(ctx: ApiContext, caller: Caller, route: Route): boolean {
  return (
    ctx.rules.keyAccessFields &&
    caller.key?.accessLevel === "ReadOnly" &&
    !READ_METHODS.has(route.method)
  );
}

function readOnlyRefusal(style: ErrorStyle): Reply {
  return securityFail(style, 403, MSG_NO_PERMISSION, {
    reasons: [READ_ONLY_REASON],
    details: { AccessLevel: "ReadOnly" },
  });
}
