import http from "node:http";
import https from "node:https";
import type { CancelableRequest, Got, RequestError, Response, RetryObject } from "got" with {
  "resolution-mode": "import",
};
import { Credential, Endpoint, loopbackLookup } from "./endpoint";
import type { Answer, Exchange, Method } from "./exchange";
import { NOT_SENT_CODES, tooLarge, transportError } from "./failures";
import { proxyAgentFor } from "./proxy";

export type { Answer, Exchange, Method } from "./exchange";

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
    // Direct connections resolve loopback names to this machine, never through DNS.
    const direct = { ...options, lookup: loopbackLookup };
    found = proxied
      ? { agent: proxied.agents, proxy: proxied.proxy }
      : {
          agent: { http: new http.Agent(direct), https: new https.Agent(direct) },
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

/** One instance per method, and `ANONYMOUS`: a GET that carries no credential. */
type Instances = Record<Method | "ANONYMOUS", Got>;

/**
 * HTTP for one client: got configured once (headers, agents, timeout, retries), requests sent
 * with the answer size capped, and transport failures turned into OctopusErrors.
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
    private readonly connection: Endpoint,
    private readonly policy: RetryPolicy,
  ) {
    this.agents = agentsFor(connection.serverUrl, connection.caCertificate);
    this.headers = authHeaders(connection.credential);
  }

  /**
   * got, configured once for this client, one instance per method: merging options is most of
   * got's cost per request, so a call passes no more than its URL (and a create its body).
   */
  private configured(): Promise<Instances> {
    this.instances ??= loadGot().then((got) => {
      const common = got.extend({
        headers: { accept: "application/json" },
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
      const base = common.extend({ headers: this.headers });
      return {
        GET: base.extend({ method: "GET" }),
        DELETE: base.extend({ method: "DELETE" }),
        // 429 means Octopus refused the request without acting on it: the only failure a create
        // may be retried on. Anything else may have made the key, and is left to the caller.
        POST: base.extend({
          method: "POST",
          retry: { methods: ["POST"], statusCodes: [429], errorCodes: [] },
        }),
        // For a route that needs no credential (the server's key policy): a credential goes only
        // where it must. Asked once per run, by a caller that does not wait long: no retry.
        ANONYMOUS: common.extend({ method: "GET", retry: { limit: 0 } }),
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

  /**
   * Sends one request (retried as the policy allows); every failure is an OctopusError.
   * `anonymous`: a GET without the credential, not retried.
   */
  async send(exchange: Exchange, url: string, json?: unknown, anonymous = false): Promise<Answer> {
    const instances = await this.configured();
    const instance =
      anonymous && exchange.method === "GET" ? instances.ANONYMOUS : instances[exchange.method];
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
      if (oversized) throw tooLarge(exchange, MAX_ANSWER_BYTES);
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
