import http from "node:http";
import https from "node:https";
import type { Got, RequestError } from "got" with { "resolution-mode": "import" };
import type { Credential, ResolvedConnection } from "./connection";
import { OctopusError, OctopusErrorCode, registerSecret } from "./errors";
import { proxyAgentFor, proxyFor } from "./proxy";

/** An Octopus user, as far as this package reads it. */
export interface OctopusUser {
  Id: string;
  Username: string;
  DisplayName?: string;
  IsService?: boolean;
  IsActive?: boolean;
}

/** An API key as Octopus returns it; `ApiKey` is the secret only in the answer to its creation. */
export interface OctopusApiKeyResource {
  Id: string;
  Purpose: string;
  UserId: string;
  ApiKey?: string | { HasValue?: boolean; Hint?: string };
  Created: string;
  Expires: string | null;
}

interface Page<T> {
  Items: T[];
  Links?: Record<string, string>;
}

/** How GET and DELETE requests are retried; a POST only on 429. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** First backoff; doubles each retry, with jitter. */
  baseDelayMs: number;
  /** Longest single wait, `Retry-After` included. */
  maxDelayMs: number;
  /** No retry starts after this much time has passed since the first attempt. */
  maxTotalMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
  maxTotalMs: 60_000,
};

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

/**
 * Failures worth retrying for an idempotent request (429, 502–504, network, timeout, a truncated
 * body), each with the server's `Retry-After` when it sent one.
 */
const transient = new WeakMap<OctopusError, { retryAfterMs?: number; neverSent?: boolean }>();

/** True when `error` is transient: an idempotent request may be retried, a POST reconciled. */
export function isTransient(error: unknown): boolean {
  return error instanceof OctopusError && transient.has(error);
}

/** True when the request failed before reaching the server (refused connection, unknown host). */
export function neverSent(error: unknown): boolean {
  return error instanceof OctopusError && transient.get(error)?.neverSent === true;
}

/** Transport failures that happen before a request can reach the server. */
const NOT_SENT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/** got is ESM-only: load it once, on first use, so that loading this package stays cheap. */
let gotModule: Promise<Got> | undefined;
function loadGot(): Promise<Got> {
  gotModule ??= import("got").then((m) => m.got);
  return gotModule;
}

interface Transport {
  agent: { http: http.Agent; https: https.Agent };
  /** The proxy the requests go through (from HTTPS_PROXY / HTTP_PROXY), if any. */
  proxy: string | undefined;
}

/** Keep-alive agents shared by every client in the process, per server and CA. */
const agents = new Map<string, Transport>();
function agentsFor(serverUrl: string, ca: string | undefined): Transport {
  const key = `${new URL(serverUrl).origin}\n${ca ?? ""}`;
  let transport = agents.get(key);
  if (!transport) {
    const options = { keepAlive: true, maxSockets: 32, ...(ca ? { ca } : {}) };
    const proxied = proxyAgentFor(serverUrl, options);
    transport = {
      agent: proxied ?? { http: new http.Agent(options), https: new https.Agent(options) },
      proxy: proxied ? proxyFor(serverUrl) : undefined,
    };
    agents.set(key, transport);
  }
  return transport;
}

interface RequestOptions {
  searchParams?: Record<string, string | number>;
  json?: unknown;
}

interface Answer {
  status: number;
  body: unknown;
}

/**
 * A small Octopus REST client: users and API keys. It owns HTTP (got), authentication, timeouts,
 * retries and error mapping, and knows nothing of Pulumi.
 */
export class OctopusClient {
  readonly serverUrl: string;
  readonly timeoutMs: number;
  /**
   * Server clock minus this machine's, from the last answer's `Date` header (1 s resolution), or
   * undefined before any answer with one.
   */
  serverClockOffsetMs: number | undefined;
  private readonly origin: string;
  private readonly headers: Record<string, string>;
  private readonly retry: RetryPolicy;
  private readonly transport: Transport;
  private configured: Promise<Got> | undefined;

  constructor(
    private readonly connection: ResolvedConnection,
    retry: Partial<RetryPolicy> = {},
  ) {
    this.serverUrl = connection.serverUrl;
    this.timeoutMs = connection.timeoutMs;
    this.origin = new URL(connection.serverUrl).origin;
    this.headers = authHeaders(connection.credential);
    this.retry = { ...DEFAULT_RETRY, ...retry };
    this.transport = agentsFor(this.serverUrl, connection.caCertificate);
    registerSecret(connection.credential.value);
  }

  /**
   * got, configured once for this client: merging options is most of got's cost per request,
   * so it is done here rather than on every call.
   */
  private http(): Promise<Got> {
    this.configured ??= loadGot().then((got) =>
      got.extend({
        headers: { ...this.headers, accept: "application/json" },
        responseType: "text",
        throwHttpErrors: false,
        followRedirect: false,
        retry: { limit: 0 },
        timeout: { request: this.connection.timeoutMs },
        agent: this.transport.agent,
      }),
    );
    return this.configured;
  }

  /** The user the credentials belong to. */
  currentUser(): Promise<OctopusUser> {
    return this.get<OctopusUser>("/api/users/me");
  }

  getUser(id: string): Promise<OctopusUser> {
    return this.get<OctopusUser>(`/api/users/${segment(id)}`);
  }

  /**
   * The user whose username is exactly `username`, ignoring case, or `undefined`. Uses the
   * server-side `filter` (a partial match on several fields), so the cost does not grow with the
   * number of users, and follows `Page.Next` links until a match is found.
   */
  async findUserByUsername(username: string): Promise<OctopusUser | undefined> {
    const wanted = username.toLowerCase();
    let page = await this.get<Page<OctopusUser>>("/api/users", {
      searchParams: { filter: username, take: 100 },
    });
    for (;;) {
      const match = page.Items.find((u) => u.Username?.toLowerCase() === wanted);
      if (match) return match;
      const next = page.Links?.["Page.Next"];
      if (!next) return undefined;
      page = await this.get<Page<OctopusUser>>(this.sameServerPath(next));
    }
  }

  /** Keys of a user, newest first, until `stop` returns true for a key (that key excluded). */
  async listApiKeys(
    userId: string,
    stop: (key: OctopusApiKeyResource) => boolean = () => false,
  ): Promise<OctopusApiKeyResource[]> {
    const keys: OctopusApiKeyResource[] = [];
    let page = await this.get<Page<OctopusApiKeyResource>>(
      `/api/users/${segment(userId)}/apikeys`,
      { searchParams: { take: 100 } },
    );
    for (;;) {
      for (const key of page.Items) {
        if (stop(key)) return keys;
        keys.push(key);
      }
      const next = page.Links?.["Page.Next"];
      if (!next) return keys;
      page = await this.get<Page<OctopusApiKeyResource>>(this.sameServerPath(next));
    }
  }

  getApiKey(userId: string, keyId: string): Promise<OctopusApiKeyResource> {
    return this.get(`/api/users/${segment(userId)}/apikeys/${segment(keyId)}`);
  }

  /**
   * Creates a key. Sent exactly once: a POST whose outcome is unknown is never blindly repeated
   * (the caller reconciles). `expires` undefined leaves the expiry to the server's default.
   */
  async createApiKey(
    userId: string,
    body: { purpose: string; expires?: string },
  ): Promise<OctopusApiKeyResource> {
    const path = `/api/users/${segment(userId)}/apikeys`;
    const json: Record<string, string> = { Purpose: body.purpose };
    if (body.expires !== undefined) json.Expires = body.expires;
    // 429 means Octopus refused the request without acting on it: the only failure a create
    // may be retried on. Anything else may have made the key, and is left to the caller.
    const answer = await this.withRetry("POST", path, { json }, (e) => e.status === 429);
    const key = answer.body as Partial<OctopusApiKeyResource> | null;
    if (
      !key ||
      typeof key !== "object" ||
      typeof key.Id !== "string" ||
      typeof key.ApiKey !== "string" ||
      !key.ApiKey
    ) {
      throw new OctopusError(
        "BAD_RESPONSE",
        `Octopus answered POST ${this.describe(path)} with ${answer.status} but without the new key's id and secret (ApiKey); this is not what Octopus sends — check that connection.address points at Octopus itself, not a proxy or a login page`,
        { status: answer.status, method: "POST", path },
      );
    }
    registerSecret(key.ApiKey);
    return key as OctopusApiKeyResource;
  }

  /** Revokes a key; `false` when it was already gone (404), which is success for a revoke. */
  async revokeApiKey(userId: string, keyId: string): Promise<boolean> {
    const path = `/api/users/${segment(userId)}/apikeys/${segment(keyId)}`;
    try {
      await this.withRetry("DELETE", path, {});
      return true;
    } catch (error) {
      if (error instanceof OctopusError && error.status === 404) return false;
      throw error;
    }
  }

  private get<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.withRetry("GET", path, options).then((a) => a.body as T);
  }

  /**
   * Sends a request, retrying transient failures with backoff and jitter (for a request that is
   * not idempotent, only those `retryable` allows).
   */
  private async withRetry(
    method: string,
    path: string,
    options: RequestOptions,
    retryable: (error: OctopusError) => boolean = () => true,
  ): Promise<Answer> {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.send(method, path, options);
      } catch (error) {
        const hint = error instanceof OctopusError ? transient.get(error) : undefined;
        if (!hint || attempt >= this.retry.maxAttempts || !retryable(error as OctopusError)) {
          throw error;
        }
        const backoff = Math.min(
          this.retry.maxDelayMs,
          this.retry.baseDelayMs * 2 ** (attempt - 1),
        );
        const jittered = backoff / 2 + Math.random() * (backoff / 2);
        const wait = Math.max(jittered, hint.retryAfterMs ?? 0);
        if (wait > this.retry.maxDelayMs || Date.now() - started + wait > this.retry.maxTotalMs) {
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  /** One HTTP exchange: JSON in, JSON out, every failure an OctopusError. */
  private async send(method: string, path: string, options: RequestOptions): Promise<Answer> {
    const http = await this.http();
    const url = new URL(this.serverUrl + path);
    for (const [k, v] of Object.entries(options.searchParams ?? {})) {
      url.searchParams.set(k, String(v));
    }
    const where = this.describe(path);
    let response;
    try {
      response = await http(url, { method: method as "GET", json: options.json });
    } catch (error) {
      throw transportError(
        error as RequestError,
        { method, path, where, timeoutMs: this.connection.timeoutMs },
        this.transport.proxy,
      );
    }

    const { statusCode: status } = response;
    const date = Date.parse(String(response.headers.date ?? ""));
    if (!Number.isNaN(date)) this.serverClockOffsetMs = date - Date.now();
    const text = response.body;
    const contentType = String(response.headers["content-type"] ?? "");
    let body: unknown;
    let parseError = false;
    if (/json/i.test(contentType) || (!contentType && text.trim().startsWith("{"))) {
      try {
        body = text.length > 0 ? JSON.parse(text) : {};
      } catch {
        parseError = true;
      }
    }

    if (status >= 200 && status < 300) {
      if (body === undefined) {
        const what = parseError
          ? "invalid or truncated JSON"
          : `a ${contentType.split(";")[0] || "non-JSON"} page`;
        const error = new OctopusError(
          "BAD_RESPONSE",
          `Octopus answered ${method} ${where} with ${status} and ${what} instead of JSON; check that connection.address points at the Octopus server itself (not a login page or proxy)`,
          { status, method, path },
        );
        if (parseError) transient.set(error, {});
        throw error;
      }
      return { status, body };
    }
    if (status >= 300 && status < 400) {
      const location = String(response.headers.location ?? "");
      throw new OctopusError(
        "HTTP_ERROR",
        `Octopus answered ${method} ${where} with a redirect (${status}) to ${stripCredentials(location, url.href)}; set connection.address to the server's final URL (redirects are not followed, so that credentials never leave for another address)`,
        { status, method, path },
      );
    }
    throw httpError(status, response.headers, body, method, path, where);
  }

  /** `METHOD` + URL text for messages: server URL and path, never the query or credentials. */
  private describe(path: string): string {
    return `${this.serverUrl}${path}`;
  }

  /** Follows a server-provided link only when it stays on the same server. */
  private sameServerPath(link: string): string {
    const target = new URL(link, this.origin);
    const base = new URL(this.serverUrl);
    if (target.origin !== base.origin || !target.pathname.startsWith(base.pathname)) {
      throw new OctopusError(
        "BAD_RESPONSE",
        `Octopus returned a paging link to another server (${target.origin}); refusing to send credentials there`,
      );
    }
    return target.pathname.slice(base.pathname.replace(/\/$/, "").length) + target.search;
  }
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

function authHeaders(credential: Credential): Record<string, string> {
  return credential.kind === "apiKey"
    ? { "x-octopus-apikey": credential.value }
    : { authorization: `Bearer ${credential.value}` };
}

function stripCredentials(url: string, base?: string): string {
  try {
    const parsed = new URL(url, base);
    parsed.username = "";
    parsed.password = "";
    parsed.search = "";
    return parsed.toString();
  } catch {
    return "(unparsable location)";
  }
}

const STATUS_CODES: Record<number, OctopusErrorCode> = {
  400: "VALIDATION",
  401: "UNAUTHENTICATED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  429: "RATE_LIMITED",
};

function httpError(
  status: number,
  headers: http.IncomingHttpHeaders,
  body: unknown,
  method: string,
  path: string,
  where: string,
): OctopusError {
  const octopus = (body && typeof body === "object" ? body : {}) as {
    ErrorMessage?: unknown;
    Errors?: unknown;
  };
  const errors = Array.isArray(octopus.Errors)
    ? octopus.Errors.filter((e): e is string => typeof e === "string")
    : [];
  const summary = typeof octopus.ErrorMessage === "string" ? octopus.ErrorMessage : undefined;
  const said = [summary, ...errors.filter((e) => e !== summary)].filter(Boolean).join(" ");
  const code = STATUS_CODES[status] ?? (status >= 500 ? "SERVER_ERROR" : "HTTP_ERROR");
  const error = new OctopusError(
    code,
    `Octopus answered ${method} ${where} with ${status} ${http.STATUS_CODES[status] ?? ""}`.trimEnd() +
      (said ? `: ${said}` : ""),
    { status, method, path, errors },
  );
  if (RETRYABLE_STATUS.has(status)) {
    const seconds = Number(headers["retry-after"]);
    transient.set(
      error,
      Number.isFinite(seconds) && seconds >= 0 ? { retryAfterMs: seconds * 1000 } : {},
    );
  }
  return error;
}

interface Attempt {
  method: string;
  path: string;
  where: string;
  timeoutMs: number;
}

function transportError(
  error: RequestError,
  { method, path, where, timeoutMs }: Attempt,
  proxy: string | undefined,
): OctopusError {
  // got's own error carries the request options, headers (credentials) included: only its code
  // and a redacted message are kept.
  if (TLS_CODES.test(error.code ?? "")) return tlsError(error, method, path, where);
  const through = proxy
    ? ` (through the proxy ${stripCredentials(proxy)} set by HTTPS_PROXY/HTTP_PROXY; list the server in NO_PROXY to bypass it)`
    : "";
  if (HANDSHAKE_CODES.test(error.code ?? "")) {
    const reason = (error.cause as { reason?: unknown } | undefined)?.reason;
    return new OctopusError(
      "NETWORK",
      `The TLS handshake for ${method} ${where} failed${through} (${error.code}${typeof reason === "string" ? `: ${reason}` : ""}); check the scheme and port in connection.address (https:// to a server that speaks plain http fails this way)`,
      { method, path },
    );
  }
  const failure =
    error.name === "TimeoutError" || error.code === "ETIMEDOUT"
      ? new OctopusError(
          "TIMEOUT",
          `Octopus did not answer ${method} ${where} within ${timeoutMs} ms${through}; check the server's health, or raise connection.requestTimeout (OCTOPUS_REQUEST_TIMEOUT)`,
          { method, path },
        )
      : new OctopusError(
          "NETWORK",
          `Could not complete ${method} ${where}${through}: ${error.message}${error.code ? ` (${error.code})` : ""}; check connection.address and that the server is reachable from this machine`,
          { method, path },
        );
  transient.set(failure, { neverSent: NOT_SENT_CODES.has(error.code ?? "") });
  return failure;
}

/** Certificate problems: retrying cannot help, configuration can. */
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/;
/** A TLS handshake that failed for another reason (wrong port or scheme, no common protocol). */
const HANDSHAKE_CODES = /^(EPROTO|ERR_SSL_)/;

function tlsError(error: RequestError, method: string, path: string, where: string): OctopusError {
  const advice =
    error.code === "ERR_TLS_CERT_ALTNAME_INVALID"
      ? `the certificate does not name ${new URL(where).hostname}; set connection.address to a host name the certificate lists`
      : "if the server uses a private certificate authority, give its PEM certificate in connection.caCertificate (or OCTOPUS_CA_CERTIFICATE), or set NODE_EXTRA_CA_CERTS to its file";
  return new OctopusError(
    "NETWORK",
    `Could not verify the TLS certificate of ${where} (${error.code}) for ${method}; ${advice}`,
    { method, path },
  );
}
