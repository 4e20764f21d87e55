import type { IncomingHttpHeaders } from "node:http";
import { authenticate } from "./auth";
import type { ApiContext } from "./context";
import { HTML_TYPE, MSG_UNAUTHENTICATED, fail, loginPage, notFound, type Reply } from "./replies";
import type { Route } from "./routing";
import { apiKeyRoute } from "./routes/apikeys";
import { rootRoute } from "./routes/root";
import { userRoute } from "./routes/users";

/** Answers a routed request: the portal, the root, then authentication and the resource's routes. */
export function dispatch(
  ctx: ApiContext,
  route: Route,
  query: URLSearchParams,
  headers: IncomingHttpHeaders,
  body: Buffer,
): Reply {
  switch (route.kind) {
    case "portal":
      return { status: 200, contentType: HTML_TYPE, body: loginPage() };
    case "root":
      return rootRoute(ctx);
    case "apiNotFound":
      return notFound();
    case "methodNotAllowed":
      return fail(
        405,
        `The requested resource does not support http method '${route.name.split(" ")[0]}'.`,
      );
    default:
      break;
  }

  const caller = authenticate(ctx, query, headers);
  if (!caller) return fail(401, MSG_UNAUTHENTICATED);

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
