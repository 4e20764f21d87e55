import { createHash } from "node:crypto";
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import {
  FaultEngine,
  type ChosenFault,
  type FaultInjector,
  type FaultKind,
  type FaultRule,
  type FaultStep,
  type RandomFaultOptions,
} from "./faults";
import {
  MIXED_ALNUM,
  UPPER_ALNUM,
  randomString,
  randomUuid,
  secureRandom,
  seededRandom,
  type RandomSource,
} from "./random";

export type { FaultInjector, FaultKind, FaultRule, FaultStep, RandomFaultOptions };

export interface EmulatorOptions {
  /** Default "127.0.0.1". */
  host?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /** Emulates a server hosted under a path prefix, e.g. "/octopus"; default "". */
  basePath?: string;
  /** Extra filler users to seed: "user-00001"…; default 0. */
  users?: number;
  /** Delay added to every request before it is processed (simulated round trip); default 0. */
  latencyMs?: number;
  /** Injectable clock; default real time. */
  now?: () => Date;
  /** Expiry of a key created without `Expires`; default 180 days. */
  defaultExpiryDays?: number;
  /** Expiry of a key created with `Expires: null`, and the latest allowed; default 366 days. */
  maxExpiryDays?: number;
  /** Pre-2025.4 semantics: omitted/null `Expires` means the key never expires. */
  legacyNoExpiry?: boolean;
  /** Server version shown at /api; default "2025.4.5000". */
  version?: string;
  /** PRNG seed for ids, secrets and random faults (deterministic tests). */
  seed?: number;
}

export interface SeededUser {
  id: string;
  username: string;
  /** A valid key secret of that user ("" when none was made, e.g. for added service accounts). */
  apiKey: string;
  isService: boolean;
  isAdmin: boolean;
}

export interface NewUser {
  username: string;
  displayName?: string;
  email?: string;
  isService?: boolean;
  isAdmin?: boolean;
  isActive?: boolean;
}

export interface LiveKey {
  Id: string;
  UserId: string;
  Purpose: string;
  Created: string;
  Expires: string | null;
}

export interface EmulatorStats {
  requests: number;
  /** Keyed like "GET /api/users/{id}/apikeys"; unmatched requests as "GET (other)". */
  byRoute: Record<string, number>;
  /** Response body bytes actually written. */
  bytesOut: number;
  /** Request body bytes received. */
  bytesIn: number;
}

interface UserRecord {
  id: string;
  username: string;
  displayName: string;
  email: string;
  isService: boolean;
  isAdmin: boolean;
  isActive: boolean;
  /** Lower-cased username, display name and email, for the partial `filter`. */
  search: string;
  avatar: string;
}

interface KeyRecord {
  id: string;
  userId: string;
  purpose: string;
  /** SHA-256 of the secret; like Octopus, the secret itself is never stored. */
  hash: string;
  hint: string;
  created: Date;
  expires: Date | null;
  seq: number;
}

interface TokenRecord {
  userId: string;
  expires: Date | null;
}

interface Caller {
  user: UserRecord;
  /** Expiry of the API key the caller authenticated with; null for never-expiring keys and tokens. */
  keyExpires: Date | null;
}

interface Reply {
  status: number;
  body: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** Set on a successful key creation, so the `noApiKey` fault can strip the secret. */
  createdKey?: Record<string, unknown>;
}

type RouteKind =
  | "root"
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

interface Route {
  kind: RouteKind;
  name: string;
  step: Exclude<FaultStep, "any"> | undefined;
  userId?: string;
  keyId?: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const JSON_TYPE = "application/json; charset=utf-8";
const HTML_TYPE = "text/html; charset=utf-8";
const PAGE_ALL_TAKE = 2147483647;

const MSG_UNAUTHENTICATED =
  "You must be logged in to perform this action. Please provide a valid API key or log in again.";
const MSG_NOT_FOUND = "The resource you requested was not found.";
const MSG_BAD_REQUEST = "There was a problem with your request.";
const MSG_UNAVAILABLE =
  "The server is temporarily unable to handle the request. Please try again later.";
const MSG_NO_PERMISSION =
  "You do not have permission to perform this action. Please contact your Octopus administrator.";

/** Bodies for `status` faults, so an injected 401/403/404 reads like the real thing. */
const STATUS_MESSAGES: Record<number, string> = {
  401: MSG_UNAUTHENTICATED,
  403: MSG_NO_PERMISSION,
  404: MSG_NOT_FOUND,
  409: "The request conflicts with the current state of the resource.",
  500: "An unexpected error occurred on the Octopus Server.",
};

/** Octopus prints timestamps with milliseconds and an explicit offset. */
export function formatOctopusDate(date: Date): string {
  return date.toISOString().replace("Z", "+00:00");
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

function errorBody(message: string, errors: string[] = [message]): string {
  return JSON.stringify({ ErrorMessage: message, Errors: errors }, null, 2);
}

function json(status: number, value: unknown): Reply {
  // Octopus indents its JSON; keeping that makes byte counts comparable with a real server.
  return { status, body: JSON.stringify(value, null, 2) };
}

function fail(status: number, message: string, errors?: string[]): Reply {
  return { status, body: errorBody(message, errors) };
}

const notFound = (): Reply => fail(404, MSG_NOT_FOUND);
const forbidden = (permission: string): Reply =>
  fail(403, `${MSG_NO_PERMISSION} Missing permission: ${permission}`);

/** Reads a JSON property the way Octopus' (case-insensitive) model binding does. */
function prop(body: Record<string, unknown>, name: string): { present: boolean; value: unknown } {
  const key = Object.keys(body).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined
    ? { present: false, value: undefined }
    : { present: true, value: body[key] };
}

function loginPage(): string {
  return [
    "<!DOCTYPE html>",
    '<html lang="en">',
    '<head><meta charset="utf-8"><title>Sign in - Octopus Deploy</title></head>',
    "<body>",
    '<div id="root"><h1>Octopus Deploy</h1><form method="post" action="/api/users/login">',
    '<label>Username <input name="username"></label>',
    '<label>Password <input name="password" type="password"></label>',
    '<button type="submit">Sign in</button></form></div>',
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

function proxyErrorPage(status: number): string {
  const reason = status === 502 ? "Bad Gateway" : status === 504 ? "Gateway Time-out" : "Error";
  return (
    `<html>\r\n<head><title>${status} ${reason}</title></head>\r\n<body>\r\n` +
    `<center><h1>${status} ${reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`
  );
}

function normaliseBasePath(basePath: string | undefined): string {
  const trimmed = (basePath ?? "").trim().replace(/\/+$/, "");
  if (trimmed === "") return "";
  return trimmed.startsWith("/") ? trimmed : `/${trimmed}`;
}

function matchRoute(method: string, relPath: string): Route {
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
      ? { kind, name: `${method} ${pattern}`, step, ...ids }
      : { kind: "methodNotAllowed", name: `${method} ${pattern}`, step: undefined };

  if (lower[0] !== "api") return { kind: "portal", name: `${method} (other)`, step: undefined };
  if (segments.length === 1) return route("root", "/api", "root", "GET");
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
  return { kind: "apiNotFound", name: `${method} (other)`, step: undefined };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let done = false;
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      done = true;
      resolve(Buffer.concat(chunks));
    });
    req.on("error", reject);
    req.on("close", () => {
      if (!done) reject(new Error("client closed the request before sending it whole"));
    });
  });
}

function parsePaging(query: URLSearchParams): { skip: number; take: number } | { error: Reply } {
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

/**
 * A local Octopus Deploy server for users and API keys, with fault injection. It follows
 * /work/shared/design/octopus-api.md; all "now"s come from its clock (`setNow`/`advance`).
 */
export class OctopusEmulator {
  readonly url: string;
  readonly admin: SeededUser;
  readonly serviceAccount: SeededUser;
  readonly user: SeededUser;
  readonly faults: FaultInjector;

  private readonly server: Server;
  private readonly basePath: string;
  private readonly options: EmulatorOptions;
  private readonly rand: RandomSource;
  private readonly faultEngine: FaultEngine;
  private readonly installationId: string;
  private readonly users = new Map<string, UserRecord>(); // by lower-cased id, insertion order
  private readonly keys = new Map<string, KeyRecord>(); // by lower-cased id
  private readonly keysByHash = new Map<string, KeyRecord>();
  private readonly tokensByHash = new Map<string, TokenRecord>();
  private readonly currentStats: EmulatorStats = {
    requests: 0,
    byRoute: {},
    bytesOut: 0,
    bytesIn: 0,
  };
  private readonly sleeps = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private idleWaiters: Array<() => void> = [];
  private inFlight = 0;
  private nextUserNumber = 1;
  private nextKeySeq = 1;
  private pinnedNow: number | undefined;
  private clockOffset = 0;
  private closed = false;

  private constructor(server: Server, url: string, options: EmulatorOptions) {
    this.server = server;
    this.url = url;
    this.options = options;
    this.basePath = normaliseBasePath(options.basePath);
    this.rand = options.seed === undefined ? secureRandom() : seededRandom(options.seed);
    this.installationId = randomUuid(this.rand);
    const faultSeeds =
      options.seed === undefined ? secureRandom() : seededRandom((options.seed ^ 0x5bd1e995) >>> 0);
    this.faultEngine = new FaultEngine(() => faultSeeds.int(2 ** 32));
    this.faults = this.faultEngine;

    // Seed keys predate the 2025.4 expiry rules, so they never expire: tests can move the clock
    // freely and still authenticate as the seeded users.
    this.admin = this.seedUser({ username: "admin", displayName: "Administrator", isAdmin: true });
    this.serviceAccount = this.seedUser({
      username: "ci-bot",
      displayName: "CI Bot",
      isService: true,
    });
    this.user = this.seedUser({ username: "jane.doe", displayName: "Jane Doe" });
    const fillers = options.users ?? 0;
    const width = Math.max(5, String(fillers).length);
    for (let i = 1; i <= fillers; i++) {
      const n = String(i).padStart(width, "0");
      this.insertUser({
        username: `user-${n}`,
        displayName: `Filler User ${n}`,
        email: `user-${n}@example.com`,
      });
    }
  }

  static async start(options: EmulatorOptions = {}): Promise<OctopusEmulator> {
    const host = options.host ?? "127.0.0.1";
    let handler: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;
    const server = createServer((req, res) => handler(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const hostInUrl = host.includes(":") ? `[${host}]` : host;
    const url = `http://${hostInUrl}:${port}${normaliseBasePath(options.basePath)}`;
    const emulator = new OctopusEmulator(server, url, options);
    handler = (req, res) => emulator.onRequest(req, res);
    return emulator;
  }

  // ---- clock -------------------------------------------------------------------------------

  now(): Date {
    if (this.pinnedNow !== undefined) return new Date(this.pinnedNow);
    const base = this.options.now ? this.options.now().getTime() : Date.now();
    return new Date(base + this.clockOffset);
  }

  /** Pins the clock (overrides `options.now`). */
  setNow(date: Date): void {
    this.pinnedNow = date.getTime();
  }

  advance(ms: number): void {
    if (this.pinnedNow !== undefined) this.pinnedNow += ms;
    else this.clockOffset += ms;
  }

  // ---- state set-up, bypassing HTTP -----------------------------------------------------------

  /** Adds a user; non-service users get a never-expiring key (`apiKey`), service accounts none. */
  addUser(u: NewUser): SeededUser {
    const user = this.insertUser(u);
    const apiKey = user.isService ? "" : this.insertKey(user, "Emulator seed", null).secret;
    return this.describe(user, apiKey);
  }

  /** Deletes the user and its keys and tokens. */
  deleteUser(id: string): void {
    const user = this.requireUser(id);
    this.users.delete(user.id.toLowerCase());
    for (const key of [...this.keys.values()]) {
      if (key.userId === user.id) this.removeKey(key);
    }
    for (const [hash, token] of this.tokensByHash) {
      if (token.userId === user.id) this.tokensByHash.delete(hash);
    }
  }

  /** A disabled user's keys and tokens answer 401. */
  setUserActive(id: string, active: boolean): void {
    this.requireUser(id).isActive = active;
  }

  /**
   * Creates a key without the API's rules. `expires` undefined gets the server default (now +
   * defaultExpiryDays, or never in legacy mode); null makes a key that never expires.
   */
  createKey(
    userId: string,
    o: { purpose: string; expires?: Date | null },
  ): { id: string; secret: string } {
    const user = this.requireUser(userId);
    const expires = o.expires === undefined ? this.defaultExpiry("omitted") : o.expires;
    const { record, secret } = this.insertKey(user, o.purpose, expires);
    return { id: record.id, secret };
  }

  /** Revokes a key outside the API (as someone using the web portal would). */
  revokeKey(id: string): void {
    const key = this.keys.get(id.toLowerCase());
    if (!key) throw new Error(`No API key ${id}`);
    this.removeKey(key);
  }

  /** A bearer access token for a service account; `expires` undefined means it never expires. */
  issueAccessToken(userId: string, expires?: Date): string {
    const user = this.requireUser(userId);
    if (!user.isService) {
      throw new Error(
        `Access tokens are only issued to service accounts; ${user.username} is not one`,
      );
    }
    const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString("base64url");
    const token = [
      b64({ alg: "RS256", typ: "JWT" }),
      b64({
        sub: user.id,
        iss: this.url,
        exp: expires ? Math.floor(expires.getTime() / 1000) : undefined,
        jti: randomString(this.rand, MIXED_ALNUM, 16),
      }),
      randomString(this.rand, MIXED_ALNUM + "-_", 43),
    ].join(".");
    this.tokensByHash.set(sha256(token), { userId: user.id, expires: expires ?? null });
    return token;
  }

  /** Keys that exist (not revoked, user not deleted), expired ones included; newest first; no secrets. */
  liveKeys(userId?: string): LiveKey[] {
    const wanted = userId?.toLowerCase();
    return [...this.keys.values()]
      .filter((k) => wanted === undefined || k.userId.toLowerCase() === wanted)
      .sort((a, b) => b.seq - a.seq)
      .map((k) => ({
        Id: k.id,
        UserId: k.userId,
        Purpose: k.purpose,
        Created: formatOctopusDate(k.created),
        Expires: k.expires ? formatOctopusDate(k.expires) : null,
      }));
  }

  hasKey(id: string): boolean {
    return this.keys.has(id.toLowerCase());
  }

  // ---- observation ------------------------------------------------------------------------

  get stats(): EmulatorStats {
    return this.currentStats;
  }

  resetStats(): void {
    this.currentStats.requests = 0;
    this.currentStats.bytesIn = 0;
    this.currentStats.bytesOut = 0;
    for (const key of Object.keys(this.currentStats.byRoute)) delete this.currentStats.byRoute[key];
  }

  /** Resolves when no request is being processed, including ones whose client has gone. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops listening, destroys every socket (keep-alive too) and cuts pending delays short. */
  async close(): Promise<void> {
    if (this.closed) return this.idle();
    this.closed = true;
    const closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    for (const sleep of this.sleeps) {
      clearTimeout(sleep.timer);
      sleep.resolve();
    }
    this.sleeps.clear();
    await closing;
    await this.idle();
  }

  // ---- HTTP -----------------------------------------------------------------------------

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.inFlight += 1;
    this.handle(req, res)
      .catch(() => {
        // Never echo internals (they could hold a key); a generic 500 is what a client would see.
        this.send(req, res, fail(500, "An unexpected error occurred in the emulator."));
      })
      .finally(() => {
        this.inFlight -= 1;
        if (this.inFlight === 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          for (const resolve of waiters) resolve();
        }
      });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    const rawPath = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
    const query = new URLSearchParams(q >= 0 ? rawUrl.slice(q + 1) : "");
    let method = (req.method ?? "GET").toUpperCase();
    const override = req.headers["x-http-method-override"];
    if (method === "POST" && typeof override === "string" && override !== "") {
      method = override.toUpperCase();
    }

    const relPath = this.stripBasePath(rawPath);
    const route: Route =
      relPath === undefined
        ? { kind: "portal", name: `${method} (other)`, step: undefined }
        : matchRoute(method, relPath);
    this.currentStats.requests += 1;
    this.currentStats.byRoute[route.name] = (this.currentStats.byRoute[route.name] ?? 0) + 1;
    const fault = this.faultEngine.choose({ step: route.step, method, path: relPath ?? rawPath });

    let body: Buffer;
    try {
      body = await readBody(req);
    } catch {
      return; // the client went away before sending the whole request: nothing to process
    }
    this.currentStats.bytesIn += body.length;
    await this.sleep(this.options.latencyMs ?? 0);

    const early = fault ? await this.applyFaultBefore(fault, req) : undefined;
    if (early === "dropped") return;
    if (early) {
      this.send(req, res, early);
      return;
    }

    let reply: Reply;
    if (relPath === undefined) {
      reply = {
        status: 404,
        contentType: HTML_TYPE,
        body: "<html><body>Not Found</body></html>\n",
      };
    } else {
      reply = this.dispatch(route, query, req.headers, body);
    }

    switch (fault?.kind) {
      case "dropAfter":
        req.socket.destroy();
        return;
      case "invalidJson": {
        // Any proper prefix of a JSON object or array is invalid JSON.
        reply = {
          status: 200,
          body: reply.body.slice(0, Math.max(1, Math.floor(reply.body.length / 2))),
        };
        break;
      }
      case "noApiKey":
        if (reply.createdKey) {
          const stripped = { ...reply.createdKey };
          delete stripped.ApiKey;
          reply = json(200, stripped);
        }
        break;
      default:
        break;
    }
    this.send(req, res, reply);
  }

  /** Faults that replace processing: returns the reply to send, "dropped", or undefined to go on. */
  private async applyFaultBefore(
    fault: ChosenFault,
    req: IncomingMessage,
  ): Promise<Reply | "dropped" | undefined> {
    switch (fault.kind) {
      case "latency":
        await this.sleep(fault.ms);
        return undefined;
      case "dropBefore":
        req.socket.destroy();
        return "dropped";
      case "rateLimit":
        return {
          ...fail(429, "You have made too many requests. Please wait and try again."),
          headers: { "Retry-After": String(fault.retryAfter) },
        };
      case "html":
        return { status: 200, contentType: HTML_TYPE, body: loginPage() };
      case "status":
        if (fault.status === 502 || fault.status === 504) {
          return {
            status: fault.status,
            contentType: HTML_TYPE,
            body: proxyErrorPage(fault.status),
          };
        }
        return fail(
          fault.status,
          STATUS_MESSAGES[fault.status] ??
            (fault.status >= 500 ? MSG_UNAVAILABLE : MSG_BAD_REQUEST),
        );
      default:
        return undefined;
    }
  }

  private send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
    if (req.socket.destroyed || res.headersSent) return;
    const buffer = Buffer.from(reply.body, "utf8");
    res.statusCode = reply.status;
    res.setHeader("Content-Type", reply.contentType ?? JSON_TYPE);
    res.setHeader("Content-Length", buffer.length);
    res.setHeader("X-Content-Type-Options", "nosniff");
    // The server's own clock, as a real server's Date header is (clients may estimate skew from it).
    res.setHeader("Date", this.now().toUTCString());
    for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
    res.end(buffer);
    this.currentStats.bytesOut += buffer.length;
  }

  private sleep(ms: number): Promise<void> {
    if (this.closed || !(ms > 0)) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.sleeps.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.sleeps.add(entry);
    });
  }

  private stripBasePath(path: string): string | undefined {
    if (this.basePath === "") return path;
    const lowerPath = path.toLowerCase();
    const lowerBase = this.basePath.toLowerCase();
    if (lowerPath === lowerBase) return "/";
    if (lowerPath.startsWith(`${lowerBase}/`)) return path.slice(this.basePath.length);
    return undefined;
  }

  private link(path: string): string {
    return `${this.basePath}${path}`;
  }

  // ---- API --------------------------------------------------------------------------------

  private dispatch(
    route: Route,
    query: URLSearchParams,
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): Reply {
    if (route.kind === "portal") {
      return { status: 200, contentType: HTML_TYPE, body: loginPage() };
    }
    if (route.kind === "root") return json(200, this.rootDocument());
    if (route.kind === "apiNotFound") return notFound();
    if (route.kind === "methodNotAllowed") {
      return fail(
        405,
        `The requested resource does not support http method '${route.name.split(" ")[0]}'.`,
      );
    }

    const caller = this.authenticate(query, headers);
    if (!caller) return fail(401, MSG_UNAUTHENTICATED);

    switch (route.kind) {
      case "me":
        return json(200, this.userResource(caller.user, caller));
      case "user": {
        const target = this.findUser(route.userId);
        if (!target) return notFound();
        if (target !== caller.user && !caller.user.isAdmin) return forbidden("UserView");
        return json(200, this.userResource(target, caller));
      }
      case "userList":
        if (!caller.user.isAdmin) return forbidden("UserView");
        return this.listUsers(query, caller);
      case "userAll":
        if (!caller.user.isAdmin) return forbidden("UserView");
        return json(
          200,
          [...this.users.values()].map((u) => this.userResource(u, caller)),
        );
      default:
        return this.keyRoute(route, query, caller, body);
    }
  }

  private keyRoute(route: Route, query: URLSearchParams, caller: Caller, body: Buffer): Reply {
    const target = this.findUser(route.userId);
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
        return this.listKeys(target, query);
      case "keyCreate":
        return this.createKeyFromRequest(target, caller, body);
      case "keyRead": {
        const key = this.findKey(target, route.keyId);
        return key ? json(200, this.keyResource(key)) : notFound();
      }
      case "keyRevoke": {
        const key = this.findKey(target, route.keyId);
        if (!key) return notFound();
        this.removeKey(key);
        return json(200, {});
      }
      default:
        return notFound();
    }
  }

  private authenticate(query: URLSearchParams, headers: IncomingHttpHeaders): Caller | undefined {
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
    const now = this.now().getTime();
    if (apiKey !== undefined) {
      const key = this.keysByHash.get(sha256(apiKey));
      if (!key || (key.expires && key.expires.getTime() <= now)) return undefined;
      const user = this.findUser(key.userId);
      return user?.isActive ? { user, keyExpires: key.expires } : undefined;
    }
    const authorization = headers.authorization;
    const bearer = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
    if (bearer) {
      const token = this.tokensByHash.get(sha256(bearer[1]));
      if (!token || (token.expires && token.expires.getTime() <= now)) return undefined;
      const user = this.findUser(token.userId);
      return user?.isActive ? { user, keyExpires: null } : undefined;
    }
    return undefined;
  }

  private listUsers(query: URLSearchParams, caller: Caller): Reply {
    const paging = parsePaging(query);
    if ("error" in paging) return paging.error;
    const filter = (query.get("filter") ?? "").toLowerCase();
    const ids = (query.get("ids") ?? "")
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s !== "");
    const idSet = ids.length > 0 ? new Set(ids) : undefined;
    const matches: UserRecord[] = [];
    for (const user of this.users.values()) {
      if (idSet && !idSet.has(user.id.toLowerCase())) continue;
      if (filter !== "" && !user.search.includes(filter)) continue;
      matches.push(user);
    }
    const params: Array<[string, string]> = [];
    if (ids.length > 0) params.push(["ids", query.get("ids") ?? ""]);
    if (filter !== "") params.push(["filter", query.get("filter") ?? ""]);
    return json(
      200,
      this.page("User", matches, paging, "/api/users", "{?skip,take,ids,filter}", params, (u) =>
        this.userResource(u, caller),
      ),
    );
  }

  private listKeys(user: UserRecord, query: URLSearchParams): Reply {
    const paging = parsePaging(query);
    if ("error" in paging) return paging.error;
    const partial = query.get("partialPurpose") ?? "";
    const needle = partial.toLowerCase();
    const keys = [...this.keys.values()]
      .filter(
        (k) => k.userId === user.id && (needle === "" || k.purpose.toLowerCase().includes(needle)),
      )
      // Newest = most recently created, even if a test moved the clock backwards in between.
      .sort((a, b) => b.seq - a.seq);
    const params: Array<[string, string]> = partial !== "" ? [["partialPurpose", partial]] : [];
    return json(
      200,
      this.page(
        "ApiKey",
        keys,
        paging,
        `/api/users/${user.id}/apikeys`,
        "{?skip,take,partialPurpose}",
        params,
        (k) => this.keyResource(k),
      ),
    );
  }

  /** Octopus' paged envelope; page links carry skip, take and the query's other parameters. */
  private page<T>(
    itemType: string,
    all: T[],
    { skip, take }: { skip: number; take: number },
    path: string,
    template: string,
    params: Array<[string, string]>,
    render: (item: T) => unknown,
  ): Record<string, unknown> {
    const total = all.length;
    const pages = take > 0 ? Math.max(1, Math.ceil(total / take)) : 1;
    const href = (s: number, t: number): string => {
      const qs = new URLSearchParams([["skip", String(s)], ["take", String(t)], ...params]);
      return this.link(`${path}?${qs.toString()}`);
    };
    const links: Record<string, string> = {
      Self: href(skip, take),
      Template: this.link(`${path}${template}`),
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

  private createKeyFromRequest(target: UserRecord, caller: Caller, raw: Buffer): Reply {
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

    const now = this.now();
    const expiresProp = prop(body, "Expires");
    let expires: Date | null;
    let explicit = false;
    if (!expiresProp.present || expiresProp.value === undefined) {
      expires = this.defaultExpiry("omitted");
    } else if (expiresProp.value === null) {
      expires = this.defaultExpiry("null");
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

    if (expires && (explicit || !this.options.legacyNoExpiry)) {
      if (expires.getTime() <= now.getTime()) {
        errors.push("The expiry date must be in the future.");
      } else {
        if (caller.keyExpires && expires.getTime() > caller.keyExpires.getTime()) {
          errors.push(
            "The API key cannot expire after the API key used to create it, which expires " +
              `${formatOctopusDate(caller.keyExpires)}.`,
          );
        }
        const maxDays = this.options.maxExpiryDays ?? 366;
        if (!this.options.legacyNoExpiry && expires.getTime() > now.getTime() + maxDays * DAY_MS) {
          errors.push(`The expiry date cannot be more than ${maxDays} days in the future.`);
        }
      }
    }
    if (errors.length > 0) return fail(400, MSG_BAD_REQUEST, errors);

    const { record, secret } = this.insertKey(target, (purpose as string).trim(), expires);
    const created = {
      Id: record.id,
      Purpose: record.purpose,
      UserId: record.userId,
      ApiKey: secret,
      Created: formatOctopusDate(record.created),
      Expires: record.expires ? formatOctopusDate(record.expires) : null,
      Links: { Self: this.link(`/api/users/${record.userId}/apikeys/${record.id}`) },
    };
    return { ...json(200, created), createdKey: created };
  }

  private defaultExpiry(how: "omitted" | "null"): Date | null {
    if (this.options.legacyNoExpiry) return null;
    const days =
      how === "omitted"
        ? (this.options.defaultExpiryDays ?? 180)
        : (this.options.maxExpiryDays ?? 366);
    return new Date(this.now().getTime() + days * DAY_MS);
  }

  // ---- resources --------------------------------------------------------------------------

  private rootDocument(): Record<string, unknown> {
    const version = this.options.version ?? "2025.4.5000";
    const links: Record<string, string> = {
      Self: "/api",
      Authentication: "/api/authentication",
      CurrentUser: "/api/users/me",
      PermissionDescriptions: "/api/permissions/all",
      Register: "/api/users/register",
      RevokeUserSessions: "/api/users/{id}/revoke-sessions",
      ServerStatus: "/api/serverstatus",
      SignIn: "/api/users/login{?returnUrl}",
      SignOut: "/api/users/logout",
      SpaceHome: "/api/{spaceId}",
      Spaces: "/api/spaces{/id}{?skip,ids,take,partialName}",
      Teams: "/api/teams{/id}{?skip,take,ids,partialName,spaces,includeSystem}",
      UserAuthentication: "/api/users/authentication{/userId}",
      UserIdentityMetadata: "/api/users/identity-metadata",
      UserRoles: "/api/userroles{/id}{?skip,take,ids,partialName}",
      Users: "/api/users{/id}{?skip,take,ids,filter}",
      Web: "/app",
    };
    return {
      Application: "Octopus Deploy",
      Version: version,
      ApiVersion: "3.0.0",
      InstallationId: this.installationId,
      IsEarlyAccessProgram: false,
      HasLongTermSupport: false,
      Links: Object.fromEntries(Object.entries(links).map(([k, v]) => [k, this.link(v)])),
    };
  }

  private userResource(user: UserRecord, caller: Caller): Record<string, unknown> {
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
        Self: this.link(self),
        Permissions: this.link(`${self}/permissions`),
        ApiKeys: this.link(`${self}/apikeys{/id}{?skip,take}`),
        Avatar: user.avatar,
      },
    };
  }

  private keyResource(key: KeyRecord): Record<string, unknown> {
    return {
      Id: key.id,
      Purpose: key.purpose,
      UserId: key.userId,
      ApiKey: { HasValue: true, Hint: key.hint },
      Created: formatOctopusDate(key.created),
      Expires: key.expires ? formatOctopusDate(key.expires) : null,
      Links: { Self: this.link(`/api/users/${key.userId}/apikeys/${key.id}`) },
    };
  }

  // ---- store ------------------------------------------------------------------------------

  private seedUser(u: NewUser): SeededUser {
    const user = this.insertUser(u);
    return this.describe(user, this.insertKey(user, "Emulator seed", null).secret);
  }

  private insertUser(u: NewUser): UserRecord {
    const username = u.username.trim();
    if (username === "") throw new Error("A user needs a username");
    for (const existing of this.users.values()) {
      if (existing.username.toLowerCase() === username.toLowerCase()) {
        throw new Error(`A user named ${username} already exists`);
      }
    }
    const id = `Users-${this.nextUserNumber++}`;
    const displayName = u.displayName ?? username;
    const email = u.email ?? (u.isService ? "" : `${username}@example.com`);
    const user: UserRecord = {
      id,
      username,
      displayName,
      email,
      isService: u.isService ?? false,
      isAdmin: u.isAdmin ?? false,
      isActive: u.isActive ?? true,
      search: `${username}\n${displayName}\n${email}`.toLowerCase(),
      avatar: `https://www.gravatar.com/avatar/${createHash("md5").update(email.toLowerCase()).digest("hex")}?d=blank`,
    };
    this.users.set(id.toLowerCase(), user);
    return user;
  }

  private describe(user: UserRecord, apiKey: string): SeededUser {
    return {
      id: user.id,
      username: user.username,
      apiKey,
      isService: user.isService,
      isAdmin: user.isAdmin,
    };
  }

  private insertKey(
    user: UserRecord,
    purpose: string,
    expires: Date | null,
  ): { record: KeyRecord; secret: string } {
    let secret: string;
    do {
      secret = `API-${randomString(this.rand, UPPER_ALNUM, 26 + this.rand.int(2))}`;
    } while (this.keysByHash.has(sha256(secret)));
    let id: string;
    do {
      id = `apikeys-${randomString(this.rand, MIXED_ALNUM, 26)}`;
    } while (this.keys.has(id.toLowerCase()));
    const record: KeyRecord = {
      id,
      userId: user.id,
      purpose,
      hash: sha256(secret),
      hint: secret.slice(0, 8),
      created: this.now(),
      expires,
      seq: this.nextKeySeq++,
    };
    this.keys.set(id.toLowerCase(), record);
    this.keysByHash.set(record.hash, record);
    return { record, secret };
  }

  private removeKey(key: KeyRecord): void {
    this.keys.delete(key.id.toLowerCase());
    this.keysByHash.delete(key.hash);
  }

  private findUser(id: string | undefined): UserRecord | undefined {
    return id === undefined ? undefined : this.users.get(id.toLowerCase());
  }

  private requireUser(id: string): UserRecord {
    const user = this.findUser(id);
    if (!user) throw new Error(`No user ${id}`);
    return user;
  }

  private findKey(user: UserRecord, keyId: string | undefined): KeyRecord | undefined {
    const key = keyId === undefined ? undefined : this.keys.get(keyId.toLowerCase());
    return key && key.userId === user.id ? key : undefined;
  }
}
