import type { FaultStep } from "./faults";
import { MSG_BAD_REQUEST, fail, type Reply } from "./replies";

export type RouteKind =
  | "root"
  | "authentication"
  | "me"
  | "userList"
  | "userAll"
  | "user"
  | "keyList"
  | "keyCreate"
  | "keyRead"
  | "keyRevoke"
  | "methodNotAllowed"
  | "apiNotFound"
  | "portal";

/** A request matched to one of the emulated endpoints (or to none of them). */
export interface Route {
  kind: RouteKind;
  /** Upper case, after `X-HTTP-Method-Override`. */
  method: string;
  /** Keyed like "GET /api/users/{id}/apikeys"; unmatched requests as "GET (other)". */
  name: string;
  step: Exclude<FaultStep, "any"> | undefined;
  userId?: string;
  keyId?: string;
}

/** The largest `take` Octopus accepts; its `Page.All` links use it. */
export const PAGE_ALL_TAKE = 2147483647;

export function normaliseBasePath(basePath: string | undefined): string {
  const trimmed = (basePath ?? "").trim().replace(/\/+$/, "");
  if (trimmed === "") return "";
  return trimmed.startsWith("/") ? trimmed : `/${trimmed}`;
}

/** Matches a path (after the base path, without the query) to a route; segments match case-insensitively. */
export function matchRoute(method: string, relPath: string): Route {
  const segments = relPath
    .split("/")
    .filter((s) => s !== "")
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
  const lower = segments.map((s) => s.toLowerCase());
  const route = (
    kind: RouteKind,
    pattern: string,
    step: Route["step"],
    allowed: string,
    ids: { userId?: string; keyId?: string } = {},
  ): Route =>
    method === allowed
      ? { kind, method, name: `${method} ${pattern}`, step, ...ids }
      : { kind: "methodNotAllowed", method, name: `${method} ${pattern}`, step: undefined };

  if (lower[0] !== "api") {
    return { kind: "portal", method, name: `${method} (other)`, step: undefined };
  }
  if (segments.length === 1) return route("root", "/api", "root", "GET");
  if (segments.length === 2 && lower[1] === "authentication") {
    return route("authentication", "/api/authentication", undefined, "GET");
  }
  if (lower[1] === "users") {
    if (segments.length === 2) return route("userList", "/api/users?filter", "lookup", "GET");
    if (segments.length === 3) {
      if (lower[2] === "me") return route("me", "/api/users/me", "lookup", "GET");
      if (lower[2] === "all") return route("userAll", "/api/users/all", "lookup", "GET");
      return route("user", "/api/users/{id}", "lookup", "GET", { userId: segments[2] });
    }
    if (lower[3] === "apikeys") {
      const userId = segments[2];
      if (segments.length === 4) {
        if (method === "POST") {
          return route("keyCreate", "/api/users/{id}/apikeys", "create", "POST", { userId });
        }
        return route("keyList", "/api/users/{id}/apikeys", "list", "GET", { userId });
      }
      if (segments.length === 5) {
        const ids = { userId, keyId: segments[4] };
        if (method === "DELETE") {
          return route("keyRevoke", "/api/users/{id}/apikeys/{id}", "revoke", "DELETE", ids);
        }
        return route("keyRead", "/api/users/{id}/apikeys/{id}", "read", "GET", ids);
      }
    }
  }
  return { kind: "apiNotFound", method, name: `${method} (other)`, step: undefined };
}

export interface Paging {
  skip: number;
  take: number;
}

/** `skip`/`take` as Octopus reads them: non-negative integers, `take` defaulting to 30. */
export function parsePaging(query: URLSearchParams): Paging | { error: Reply } {
  const read = (name: string, fallback: number): number | string => {
    const raw = query.get(name);
    if (raw === null || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) return `The value '${raw}' is not valid for ${name}.`;
    return Math.min(n, PAGE_ALL_TAKE);
  };
  const skip = read("skip", 0);
  const take = read("take", 30);
  const errors = [skip, take].filter((v): v is string => typeof v === "string");
  if (errors.length > 0) return { error: fail(400, MSG_BAD_REQUEST, errors) };
  return { skip: skip as number, take: take as number };
}

/** Octopus' paged envelope; page links carry skip, take and the query's other parameters. */
export function page<T>(
  link: (path: string) => string,
  itemType: string,
  all: T[],
  { skip, take }: Paging,
  path: string,
  template: string,
  params: Array<[string, string]>,
  render: (item: T) => unknown,
): Record<string, unknown> {
  const total = all.length;
  const pages = take > 0 ? Math.max(1, Math.ceil(total / take)) : 1;
  const href = (s: number, t: number): string => {
    const qs = new URLSearchParams([["skip", String(s)], ["take", String(t)], ...params]);
    return link(`${path}?${qs.toString()}`);
  };
  const links: Record<string, string> = {
    Self: href(skip, take),
    Template: link(`${path}${template}`),
    "Page.All": href(0, PAGE_ALL_TAKE),
    "Page.Current": href(skip, take),
  };
  if (take > 0 && skip + take < total) links["Page.Next"] = href(skip + take, take);
  links["Page.Last"] = href((pages - 1) * take, take);
  return {
    ItemType: itemType,
    TotalResults: total,
    ItemsPerPage: take,
    NumberOfPages: pages,
    LastPageNumber: pages - 1,
    Items: all.slice(skip, skip + take).map(render),
    Links: links,
  };
}
