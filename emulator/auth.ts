import type { IncomingHttpHeaders } from "node:http";
import type { ApiContext, Caller } from "./context";

/**
 * Authenticates a request by `X-Octopus-ApiKey`, the `apikey` query parameter, or a bearer token.
 * Undefined for no, unknown, revoked or expired credentials and for disabled users (all 401).
 */
export function authenticate(
  ctx: ApiContext,
  query: URLSearchParams,
  headers: IncomingHttpHeaders,
): Caller | undefined {
  const header = headers["x-octopus-apikey"];
  let apiKey = typeof header === "string" && header.trim() !== "" ? header.trim() : undefined;
  if (apiKey === undefined) {
    for (const [name, value] of query) {
      if (name.toLowerCase() === "apikey" && value !== "") {
        apiKey = value;
        break;
      }
    }
  }
  const now = ctx.now().getTime();
  if (apiKey !== undefined) {
    const key = ctx.store.keyBySecret(apiKey);
    if (!key || (key.expires && key.expires.getTime() <= now)) return undefined;
    const user = ctx.store.findUser(key.userId);
    if (!user?.isActive) return undefined;
    // Octopus records each key's last use (REST reference: LastUsedTimeStamp, "the date and
    // time (UTC) the API key was last used to authenticate").
    key.lastUsed = ctx.now();
    return { user, keyExpires: key.expires, key };
  }
  const authorization = headers.authorization;
  const bearer = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  if (bearer) {
    const token = ctx.store.tokenBySecret(bearer[1]);
    if (!token || (token.expires && token.expires.getTime() <= now)) return undefined;
    const user = ctx.store.findUser(token.userId);
    return user?.isActive ? { user, keyExpires: null } : undefined;
  }
  return undefined;
}
