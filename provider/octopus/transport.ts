import http from "node:http";
import https from "node:https";
import type { CancelableRequest, Got, RequestError, Response, RetryObject } from "got" with {
  "resolution-mode": "import",
};
import type { Credential, ResolvedConnection } from "../core/connection/settings";
import { OctopusError } from "./errors";
import { proxyAgentFor } from "./proxy";

/**
 * The largest answer read, counted after decompression. Octopus's largest answer here, a page
 * of 100 users, is tens of kilobytes; an endless, compressed or huge answer is cut off here.
 */
export const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

/** How GET and DELETE requests are retried; a POST only on 429. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** First backoff; doubles each retry, with jitter. */
  baseDelayMs: number;
  /** Longest single wait; a longer `Retry-After` ends the retries. */
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

export type Method = "GET" | "DELETE" | "POST";

/** One request, as messages describe it. */
export interface Exchange {
  method: Method;
  /** Path after the server URL, without the query string. */
  path: string;
  /** Server URL and path, for messages: never the query or credentials. */
  where: string;
  /** Where the server address came from, for advice (`OCTOPUS_URL`, `connection.address`…). */
  address: string;
}

/** What came back: any status (redirects are not followed), the body parsed as JSON. */
export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body as JSON; `undefined` when it was empty or is not JSON. */
  body: unknown;
  /** Whether the body had any bytes. */
  empty: boolean;
}

/** Transport failures that happen before a request can reach the server. */
const NOT_SENT_CODES = new Set([
  "ECONNREFUSED",
  // Node 24 reports a retried connection to a refusing host this way: it never connected.
  "ERR_SOCKET_CLOSED_BEFORE_CONNECTION",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/**
 * Failures after which a request may be retried (idempotent ones) or reconciled (a create), and
 * whether the request never left this machine.
 */
const transient = new WeakMap<OctopusError, { neverSent: boolean }>();

/** True when `error` is transient: an idempotent request may be retried, a POST reconciled. */
export function isTransient(error: unknown): boolean {
  return error instanceof OctopusError && transient.has(error);
}

/** True when the request failed before reaching the server (refused connection, unknown host). */
export function neverSent(error: unknown): boolean {
  return error instanceof OctopusError && transient.get(error)?.neverSent === true;
}

/** Marks `error` as transient (see {@link isTransient}). */
export function markTransient(error: OctopusError, neverSent = false): OctopusError {
  transient.set(error, { neverSent });
  return error;
}

/** got is ESM-only: load it once, on first use, so that loading this package stays cheap. */
let gotModule: Promise<Got> | undefined;
function loadGot(): Promise<Got> {
  gotModule ??= import("got").then(
    (m) => m.got,
    (error: unknown) => {
      gotModule = undefined;
      throw error;
    },
  );
  return gotModule;
}

/**
 * Starts loading the HTTP library now, so that the first request does not wait for it. Call it
 * when a request is known to come (the provider does, when it is configured); errors surface at
 * the first request instead.
 */
export function preloadHttp(): void {
  loadGot().catch(() => undefined);
}

interface Agents {
  agent: { http: http.Agent; https: https.Agent };
  /** The proxy the requests go through (from the proxy variables), if any. */
  proxy: string | undefined;
}

/** Keep-alive agents shared by every client in the process, per server and CA. */
const agents = new Map<string, Agents>();
function agentsFor(serverUrl: string, ca: string | undefined): Agents {
  const key = `${new URL(serverUrl).origin}\n${ca ?? ""}`;
  let found = agents.get(key);
  if (!found) {
    const options = { keepAlive: true, maxSockets: 32, ...(ca ? { ca } : {}) };
    const proxied = proxyAgentFor(serverUrl, options);
    found = proxied
      ? { agent: proxied.agents, proxy: proxied.proxy }
      : {
          agent: { http: new http.Agent(options), https: new https.Agent(options) },
          proxy: undefined,
        };
    agents.set(key, found);
  }
  return found;
}

function authHeaders(credential: Credential): Record<string, string> {
  return credential.kind === "apiKey"
    ? { "x-octopus-apikey": credential.value }
    : { authorization: `Bearer ${credential.value}` };
}

/** Network errors worth another attempt of an idempotent request: got's list, and a few more. */
const RETRIED_ERROR_CODES = [
  "ETIMEDOUT",
  "ECONNRESET",
  "EADDRINUSE",
  "ECONNREFUSED",
  "ERR_SOCKET_CLOSED_BEFORE_CONNECTION",
  "EPIPE",
  "ENOTFOUND",
  "ENETUNREACH",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ECONNABORTED",
  "ERR_BODY_PARSE_FAILURE",
];

type Instances = Record<Method, Got>;

/**
 * HTTP for one client: got configured once (headers, agents, timeout, retries), requests sent
 * with the answer size capped, and transport failures turned into {@link OctopusError}s.
 */
export class Transport {
  /**
   * Server clock minus this machine's, from the last answer's `Date` header (1 s resolution), or
   * undefined before any answer with one. Parsed when asked for (only reconciliation needs it),
   * not on every answer.
   */
  get serverClockOffsetMs(): number | undefined {
    const { date, receivedAt } = this.lastDate;
    const parsed = date === undefined ? NaN : Date.parse(date);
    if (!Number.isNaN(parsed)) return parsed - receivedAt;
    return this.lastDate.offsetMs;
  }
  /**
   * The last answer's `Date` header and when it came; `offsetMs` is the offset from the last one
   * that parsed, kept when a later answer's header does not.
   */
  private lastDate: { date: string | undefined; receivedAt: number; offsetMs?: number } = {
    date: undefined,
    receivedAt: 0,
  };
  private readonly agents: Agents;
  private readonly headers: Record<string, string>;
  private instances: Promise<Instances> | undefined;

  constructor(
    private readonly connection: ResolvedConnection,
    private readonly policy: RetryPolicy,
  ) {
    this.agents = agentsFor(connection.serverUrl, connection.caCertificate);
    this.headers = { ...authHeaders(connection.credential), accept: "application/json" };
  }

  /**
   * got, configured once for this client, one instance per method: merging options is most of
   * got's cost per request, so a call passes no more than its URL (and a create its body).
   */
  private configured(): Promise<Instances> {
    this.instances ??= loadGot().then((got) => {
      const base = got.extend({
        headers: this.headers,
        responseType: "json",
        throwHttpErrors: false,
        followRedirect: false,
        timeout: { request: this.connection.timeoutMs },
        agent: this.agents.agent,
        retry: {
          limit: this.policy.maxAttempts - 1,
          methods: ["GET", "DELETE"],
          statusCodes: [429, 502, 503, 504],
          errorCodes: RETRIED_ERROR_CODES,
          maxRetryAfter: this.policy.maxDelayMs,
          // got's rules (limit, method, status, error code, Retry-After cap) decide first.
          enforceRetryRules: true,
          calculateDelay: (retry) => this.delay(retry),
        },
        hooks: {
          beforeRequest: [
            (options) => {
              // Copied into every retry's options: the start of the first attempt.
              (options.context as { started?: number }).started ??= Date.now();
            },
          ],
        },
      });
      return {
        GET: base.extend({ method: "GET" }),
        DELETE: base.extend({ method: "DELETE" }),
        // 429 means Octopus refused the request without acting on it: the only failure a create
        // may be retried on. Anything else may have made the key, and is left to the caller.
        POST: base.extend({
          method: "POST",
          retry: { methods: ["POST"], statusCodes: [429], errorCodes: [] },
        }),
      };
    });
    return this.instances;
  }

  /**
   * The wait before a retry that got's rules allow. Hand-written where got has no option: a
   * shorter first backoff than got's 1 s, jitter proportional to it, a budget for all retries,
   * one retry only for a host that cannot be reached, and truncated JSON told from an HTML page.
   */
  private delay({ attemptCount, error, retryAfter }: RetryObject): number {
    if (NOT_SENT_CODES.has(error.code) && attemptCount > 1) return 0;
    if (error.code === "ERR_BODY_PARSE_FAILURE" && !isJson(error.response?.headers)) return 0;
    const backoff = Math.min(
      this.policy.maxDelayMs,
      this.policy.baseDelayMs * 2 ** (attemptCount - 1),
    );
    const wait = Math.max(backoff / 2 + Math.random() * (backoff / 2), retryAfter ?? 0);
    const started = (error.options?.context as { started?: number } | undefined)?.started;
    if (started !== undefined && Date.now() - started + wait > this.policy.maxTotalMs) return 0;
    return wait;
  }

  /** Sends one request (retried as the policy allows); every failure is an {@link OctopusError}. */
  async send(exchange: Exchange, url: string, json?: unknown): Promise<Answer> {
    const instance = (await this.configured())[exchange.method];
    const request = (
      json === undefined ? instance(url) : instance(url, { json })
    ) as CancelableRequest<Response<unknown>>;
    let oversized = false;
    request.on("downloadProgress", ({ transferred, total }) => {
      // Counted after decompression; `total` is the declared length of an uncompressed answer.
      if (!oversized && (transferred > MAX_ANSWER_BYTES || (total ?? 0) > MAX_ANSWER_BYTES)) {
        oversized = true;
        request.cancel();
      }
    });
    let response: Response<unknown>;
    let parsed = true;
    try {
      response = await request;
    } catch (error) {
      if (oversized) throw tooLarge(exchange);
      const failure = error as RequestError;
      if (failure.name !== "ParseError" || !failure.response) {
        throw transportError(failure, exchange, {
          proxy: this.agents.proxy,
          timeoutMs: this.connection.timeoutMs,
        });
      }
      response = failure.response as Response<unknown>;
      parsed = false;
    }
    const date = response.headers.date;
    if (date !== undefined && date !== this.lastDate.date) {
      // The previous header's offset stays the answer when this one does not parse.
      this.lastDate = { date, receivedAt: Date.now(), offsetMs: this.serverClockOffsetMs };
    }
    const empty = response.rawBody === undefined || response.rawBody.length === 0;
    const ok = response.statusCode >= 200 && response.statusCode < 300;
    // For other statuses got falls back to the text when the body is not JSON.
    const body =
      !parsed || empty || (!ok && typeof response.body === "string") ? undefined : response.body;
    return { status: response.statusCode, headers: response.headers, body, empty };
  }
}

/** Whether the headers declare a JSON body. */
export function isJson(headers: http.IncomingHttpHeaders | undefined): boolean {
  return /json/i.test(String(headers?.["content-type"] ?? ""));
}

function tooLarge({ method, path, where, address }: Exchange): OctopusError {
  return new OctopusError(
    "BAD_RESPONSE",
    `Octopus's answer to ${method} ${where} is larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB (after decompression), far beyond any answer Octopus sends; reading stopped there. Check that ${address} points at the Octopus server itself, not a proxy or another service`,
    { method, path },
  );
}

/**
 * Text from got or Node.js, fit for a message: URLs keep no query string or user info (a query
 * holds a username filter, a URL may hold credentials), control characters become spaces, and
 * the length is bounded.
 */
export function safeText(text: string): string {
  return text
    .replace(/[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]*/gi, (url) => {
      try {
        const parsed = new URL(url);
        return `${parsed.origin}${parsed.pathname}`;
      } catch {
        return "(a URL)";
      }
    })
    .replace(/\?[^\s"'<>]*/g, "")
    .replace(/\p{Cc}+/gu, " ")
    .slice(0, 300);
}

/** Certificate problems: retrying cannot help, configuration can. */
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/;
/** A TLS handshake that failed for another reason (wrong port or scheme, no common protocol). */
const HANDSHAKE_CODES = /^(EPROTO|ERR_SSL_)/;
/** A compressed answer that would not decompress. */
const DECOMPRESSION_CODES = /^(Z_|ERR_ZLIB|ERR__ERROR|ERR_BROTLI|ERR_ZSTD)/;

/**
 * A transport failure as an {@link OctopusError}. got's own error carries the request options,
 * headers (credentials) included: only its code and a cleaned-up message are kept.
 */
export function transportError(
  error: RequestError,
  { method, path, where, address }: Exchange,
  { proxy, timeoutMs }: { proxy: string | undefined; timeoutMs: number },
): OctopusError {
  const code = typeof error.code === "string" ? error.code : "";
  if (TLS_CODES.test(code)) return tlsError(code, { method, path, where, address });
  const through = proxy
    ? ` (through the proxy ${withoutCredentials(proxy)} set by HTTPS_PROXY/HTTP_PROXY/ALL_PROXY; list the server in NO_PROXY to bypass it)`
    : "";
  if (HANDSHAKE_CODES.test(code)) {
    const reason = (error.cause as { reason?: unknown } | undefined)?.reason;
    return new OctopusError(
      "NETWORK",
      `The TLS handshake for ${method} ${where} failed${through} (${code}${typeof reason === "string" ? `: ${safeText(reason)}` : ""}); check the scheme and port in ${address} (https:// to a server that speaks plain http fails this way)`,
      { method, path },
    );
  }
  if (DECOMPRESSION_CODES.test(code)) {
    return new OctopusError(
      "BAD_RESPONSE",
      `Octopus's answer to ${method} ${where} is compressed data that does not decompress (${code}); check that ${address} points at the Octopus server itself, not a proxy or another service`,
      { method, path },
    );
  }
  if (error.name === "TimeoutError" || code === "ETIMEDOUT") {
    return markTransient(
      new OctopusError(
        "TIMEOUT",
        `Octopus did not answer ${method} ${where} within ${timeoutMs} ms${through}; check the server's health, or raise connection.requestTimeout (OCTOPUS_REQUEST_TIMEOUT)`,
        { method, path },
      ),
    );
  }
  const refused = NOT_SENT_CODES.has(code);
  return markTransient(
    new OctopusError(
      "NETWORK",
      `Could not complete ${method} ${where}${through}: ${safeText(error.message)}${code && !error.message.includes(code) ? ` (${code})` : ""}; check ${address} and that the server is reachable from this machine`,
      { method, path },
    ),
    refused,
  );
}

function tlsError(code: string, { method, path, where, address }: Exchange): OctopusError {
  const advice =
    code === "ERR_TLS_CERT_ALTNAME_INVALID"
      ? `the certificate does not name ${new URL(where).hostname}; set ${address} to a host name the certificate lists`
      : "if the server uses a private certificate authority, give its PEM certificate in connection.caCertificate (or OCTOPUS_CA_CERTIFICATE), or set NODE_EXTRA_CA_CERTS to its file";
  return new OctopusError(
    "NETWORK",
    `Could not verify the TLS certificate of ${where} (${code}) for ${method}; ${advice}`,
    { method, path },
  );
}

/** `url` without user info, query or fragment; for messages. */
export function withoutCredentials(url: string, base?: string): string {
  try {
    const parsed = new URL(url, base);
    parsed.username = "";
    parsed.password = "";
    parsed.search = "";
    parsed.hash = "";
    return parsed.toString();
  } catch {
    return "(unparsable URL)";
  }
}
