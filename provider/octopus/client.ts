import { asApiKey, asPage, asUser, OctopusApiKeyResource, OctopusUser, Page } from "./answers";
import type { Endpoint } from "./endpoint";
import { OctopusError } from "./errors";
import { badAnswer, markTransient, statusError } from "./failures";
import { readPages } from "./paging";
import { asKeyPolicy, KeyPolicy } from "./policy";
import { registerSecret } from "./redaction";
import {
  Answer,
  DEFAULT_RETRY,
  Exchange,
  isJson,
  Method,
  RetryPolicy,
  Transport,
} from "./transport";
import { UsernameMatcher } from "./usernames";

export { isTransient, neverSent } from "./failures";
export { DEFAULT_RETRY, MAX_ANSWER_BYTES, preloadHttp } from "./transport";
export type { RetryPolicy } from "./transport";
export { MAX_PAGES } from "./paging";
export type { OctopusApiKeyResource, OctopusUser } from "./answers";
export type { KeyPolicy } from "./policy";

/** Items asked for per page of a paged list. */
const PAGE_SIZE = 100;

/**
 * A small Octopus REST client: users and API keys. It owns HTTP (through {@link Transport}),
 * checks every answer before use, and knows nothing of Pulumi.
 */
export class OctopusClient {
  readonly serverUrl: string;
  readonly timeoutMs: number;
  private readonly transport: Transport;
  /** Where the server address came from, for advice in messages. */
  private readonly address: string;
  /** The server URL's path (`/octopus` under a prefix, else empty): paging links must stay in it. */
  private readonly basePath: string;
  private readonly origin: string;

  /**
   * `keyFields`: fields of a key's answer to keep besides those this client reads (as text, in
   * `Reported`), for values a caller stores as Octopus keeps them.
   */
  constructor(
    connection: Endpoint,
    retry: Partial<RetryPolicy> = {},
    private readonly keyFields: readonly string[] = [],
  ) {
    this.serverUrl = connection.serverUrl;
    this.timeoutMs = connection.timeoutMs;
    this.address = connection.labels?.address ?? "connection.address";
    const url = new URL(connection.serverUrl);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/$/, "");
    this.transport = new Transport(connection, { ...DEFAULT_RETRY, ...retry });
    registerSecret(connection.credential.value);
  }

  /**
   * Server clock minus this machine's, from the last answer's `Date` header (1 s resolution), or
   * undefined before any answer with one.
   */
  get serverClockOffsetMs(): number | undefined {
    return this.transport.serverClockOffsetMs;
  }

  /** The user the credentials belong to. */
  async currentUser(): Promise<OctopusUser> {
    const path = "/api/users/me";
    return asUser(await this.json("GET", path), this.exchange("GET", path));
  }

  async getUser(id: string): Promise<OctopusUser> {
    const path = `/api/users/${segment(id)}`;
    return asUser(await this.json("GET", path), this.exchange("GET", path));
  }

  /**
   * The user whose username is `username`: the exact match, else the one match that differs only
   * in letter case (with no compatibility folding: the Kelvin sign is no `k`), else `undefined`.
   * Throws AMBIGUOUS_USER when several users differ from it only in case. Uses the server-side
   * `filter` (a partial match on several fields), so the cost does not grow with the number of
   * users, and reads at most {@link MAX_PAGES} pages.
   */
  async findUserByUsername(username: string): Promise<OctopusUser | undefined> {
    const matcher = new UsernameMatcher(username, this.serverUrl);
    const query = new URLSearchParams({ filter: username, take: String(PAGE_SIZE) });
    await this.pages(`/api/users?${query.toString()}`, (item, exchange) =>
      matcher.consider(asUser(item, exchange)),
    );
    return matcher.result();
  }

  /**
   * Users in the server's order, handed to `each` until it returns true; at most
   * {@link MAX_PAGES} pages. Needs the UserView permission (an administrator).
   */
  async listUsers(each: (user: OctopusUser) => boolean): Promise<void> {
    await this.pages(`/api/users?take=${PAGE_SIZE}`, (item, exchange) =>
      each(asUser(item, exchange)),
    );
  }

  /**
   * Hands each of a user's keys to `each`, in the order the server lists them (which callers must
   * not rely on), and keeps none of them: the caller keeps what it needs. `partialPurpose` asks the
   * server for the keys whose purpose contains it (a fragment match; the caller still compares
   * purposes itself). At most {@link MAX_PAGES} pages.
   */
  async listApiKeys(
    userId: string,
    each: (key: OctopusApiKeyResource) => void = () => undefined,
    filter: { partialPurpose?: string } = {},
  ): Promise<void> {
    const query = new URLSearchParams({ take: String(PAGE_SIZE) });
    if (filter.partialPurpose) query.set("partialPurpose", filter.partialPurpose);
    await this.pages(
      `/api/users/${segment(userId)}/apikeys?${query.toString()}`,
      (item, exchange) => {
        each(asApiKey(item, exchange, { created: false, userId, keep: this.keyFields }));
        return false;
      },
    );
  }

  async getApiKey(userId: string, keyId: string): Promise<OctopusApiKeyResource> {
    const path = `/api/users/${segment(userId)}/apikeys/${segment(keyId)}`;
    return asApiKey(await this.json("GET", path), this.exchange("GET", path), {
      created: false,
      userId,
      keep: this.keyFields,
    });
  }

  /**
   * The server's key policy (`GET /api/authentication`), asked without the credential: the route
   * needs none. Fields the answer lacks, or holds in another shape, are left out; a status other
   * than 2xx, or an answer that is not JSON, throws as any request does. Not retried.
   */
  async keyPolicy(): Promise<KeyPolicy> {
    const path = "/api/authentication";
    const exchange = this.exchange("GET", path);
    const answer = await this.transport.send(exchange, this.serverUrl + path, undefined, true);
    if (answer.status < 200 || answer.status >= 300) throw statusError(answer, exchange);
    return asKeyPolicy(answer.body);
  }

  /**
   * Creates a key, sending `{ Purpose, UserId, Expires?, AccessLevel?, ActorType? }` and any
   * other `fields` the caller names (never in place of those). Sent once, and again
   * only after a 429: a POST whose outcome is unknown (BAD_RESPONSE, or a transient failure that
   * is not {@link neverSent}) is never blindly repeated; the caller reconciles. `expires`
   * undefined leaves the expiry to the server's default.
   */
  async createApiKey(
    userId: string,
    body: {
      purpose: string;
      expires?: string;
      accessLevel?: string;
      actorType?: string;
      fields?: Record<string, string>;
    },
  ): Promise<OctopusApiKeyResource> {
    const path = `/api/users/${segment(userId)}/apikeys`;
    const json: Record<string, string> = { Purpose: body.purpose, UserId: userId };
    if (body.expires !== undefined) json.Expires = body.expires;
    if (body.accessLevel !== undefined) json.AccessLevel = body.accessLevel;
    if (body.actorType !== undefined) json.ActorType = body.actorType;
    for (const [field, value] of Object.entries(body.fields ?? {})) json[field] ??= value;
    const answer = await this.json("POST", path, json);
    // Whatever else is wrong with the answer, a secret in it must never reach a message.
    const secret = (answer as { ApiKey?: unknown } | null)?.ApiKey;
    if (typeof secret === "string") registerSecret(secret);
    return asApiKey(answer, this.exchange("POST", path), {
      created: true,
      userId,
      keep: this.keyFields,
    });
  }

  /**
   * Revokes a key; `false` when it was already gone (404), which is success for a revoke. Any 2xx
   * is success, with or without a body, unless the body is an HTML page (a login page or proxy
   * answering for Octopus, which revoked nothing).
   */
  async revokeApiKey(userId: string, keyId: string): Promise<boolean> {
    const path = `/api/users/${segment(userId)}/apikeys/${segment(keyId)}`;
    const exchange = this.exchange("DELETE", path);
    const answer = await this.transport.send(exchange, this.serverUrl + path);
    if (answer.status === 404) return false;
    if (answer.status < 200 || answer.status >= 300) throw statusError(answer, exchange);
    if (answer.body === undefined && !answer.empty && isHtml(answer)) {
      throw badAnswer(exchange, "its answer is an HTML page", answer.status);
    }
    return true;
  }

  private exchange(method: Method, path: string): Exchange {
    return { method, path, where: this.serverUrl + path, address: this.address };
  }

  /**
   * One request whose answer must be 2xx with a JSON body; returns the body. `request` is a path
   * after the server URL, with its query if any.
   */
  private async json(method: Method, request: string, body?: unknown): Promise<unknown> {
    const query = request.indexOf("?");
    const exchange = this.exchange(method, query < 0 ? request : request.slice(0, query));
    const answer = await this.transport.send(exchange, this.serverUrl + request, body);
    if (answer.status < 200 || answer.status >= 300) throw statusError(answer, exchange);
    if (answer.body !== undefined) return answer.body;
    if (answer.empty) throw badAnswer(exchange, "its answer is empty", answer.status);
    if (isJson(answer.headers)) {
      // Truncated on the way: worth another attempt (already made for a GET), not a config error.
      throw markTransient(
        badAnswer(exchange, "its answer is invalid or truncated JSON", answer.status),
      );
    }
    const type = String(answer.headers["content-type"] ?? "")
      .split(";")[0]
      .trim();
    throw badAnswer(
      exchange,
      `its answer is a ${type || "non-JSON"} page, not JSON`,
      answer.status,
    );
  }

  /** Reads a paged list from `first` on; see {@link readPages}. */
  private async pages(
    first: string,
    each: (item: unknown, exchange: Exchange) => boolean,
  ): Promise<void> {
    const exchange = this.exchange("GET", first.slice(0, first.indexOf("?")));
    const fetch = async (request: string): Promise<Page> =>
      asPage(await this.json("GET", request), exchange);
    await readPages(
      first,
      exchange,
      fetch,
      (link) => this.sameServer(link, exchange),
      (item) => each(item, exchange),
    );
  }

  /**
   * The request (path after the server URL, and query) a server-given link stands for; only a link
   * that stays on this server, under its path, is followed.
   */
  private sameServer(link: string, exchange: Exchange): string {
    let target: URL;
    try {
      target = new URL(link, `${this.origin}/`);
    } catch {
      throw badAnswer(exchange, "its paging link is no URL");
    }
    const inBase =
      this.basePath === "" ||
      target.pathname === this.basePath ||
      target.pathname.startsWith(`${this.basePath}/`);
    if (target.origin !== this.origin || !inBase) {
      throw new OctopusError(
        "BAD_RESPONSE",
        `Octopus returned a paging link to another server or path (${target.origin}${target.pathname}); refusing to send credentials there`,
        { method: exchange.method, path: exchange.path },
      );
    }
    return target.pathname.slice(this.basePath.length) + target.search;
  }
}

function isHtml(answer: Answer): boolean {
  return /html/i.test(String(answer.headers["content-type"] ?? ""));
}

/**
 * `value` as one encoded path segment. `.` and `..` (and nothing) cannot be one: URL resolution
 * would drop them or climb a level, sending the request to another route.
 */
function segment(value: string): string {
  if (value === "" || value === "." || value === "..") {
    throw new OctopusError(
      "CONFIGURATION",
      `${JSON.stringify(value)} cannot be an Octopus id (it would change which URL is requested); if it comes from the stored state, that state was edited or is corrupt`,
    );
  }
  return encodeURIComponent(value);
}
