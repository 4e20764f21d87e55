import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dispatch } from "./api";
import type { ApiContext, ServerSettings } from "./context";
import {
  FaultEngine,
  faultAfter,
  faultBefore,
  type FaultInjector,
  type FaultKind,
  type FaultRule,
  type FaultStep,
  type RandomFaultOptions,
} from "./faults";
import type {
  AccessLevel,
  DeleteAnswer,
  EmulatorOptions,
  EmulatorStats,
  LiveKey,
  SeededUser,
} from "./options";
import {
  DEFAULT_PROFILE,
  PROFILES,
  profileRules,
  type ProfileName,
  type ProfileRules,
} from "./profiles";
import { secureRandom, seededRandom, randomUuid, type RandomSource } from "./random";
import { HTML_TYPE, JSON_TYPE, fail, formatOctopusDate, type Reply } from "./replies";
import { matchRoute, normaliseBasePath, type Route } from "./routing";
import { isLoopbackHost } from "./loopback";
import { defaultExpiry } from "./routes/apikeys";
import { Store, type NewUser, type UserRecord } from "./store";

export type { FaultInjector, FaultKind, FaultRule, FaultStep, RandomFaultOptions };
export type { AccessLevel, DeleteAnswer, EmulatorOptions, EmulatorStats, LiveKey, NewUser };
export type { ProfileName, ProfileRules, SeededUser };
export { DEFAULT_PROFILE, PROFILES, formatOctopusDate };

const HOUR_MS = 60 * 60 * 1000;

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

/**
 * A local Octopus Deploy server for users and API keys, with fault injection (emulator/README.md
 * cites the public sources of each rule). All "now"s come from its clock (`setNow`/`advance`).
 * This class is the HTTP front and the test-facing API; the data lives in ./store, the answers
 * in ./routes, the faults in ./faults.
 */
export class OctopusEmulator {
  readonly url: string;
  readonly admin: SeededUser;
  readonly serviceAccount: SeededUser;
  readonly user: SeededUser;
  readonly faults: FaultInjector;
  /** The profile's rules, with the options' overrides (version, default and maximum expiry). */
  readonly rules: ProfileRules;

  private readonly server: Server;
  private readonly basePath: string;
  private readonly options: EmulatorOptions;
  private readonly rand: RandomSource;
  private readonly faultEngine: FaultEngine;
  private readonly store: Store;
  private readonly ctx: ApiContext;
  private readonly settings: ServerSettings;
  private readonly currentStats: EmulatorStats = {
    requests: 0,
    byRoute: {},
    bytesOut: 0,
    bytesIn: 0,
  };
  private readonly sleeps = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private idleWaiters: Array<() => void> = [];
  private inFlight = 0;
  private pinnedNow: number | undefined;
  private clockOffset = 0;
  private closed = false;

  private constructor(server: Server, url: string, options: EmulatorOptions) {
    this.server = server;
    this.url = url;
    this.options = options;
    this.basePath = normaliseBasePath(options.basePath);
    this.rand = options.seed === undefined ? secureRandom() : seededRandom(options.seed);
    const installationId = randomUuid(this.rand);
    const faultSeeds =
      options.seed === undefined ? secureRandom() : seededRandom((options.seed ^ 0x5bd1e995) >>> 0);
    this.faultEngine = new FaultEngine(() => faultSeeds.int(2 ** 32));
    this.faults = this.faultEngine;
    this.store = new Store(this.rand, () => this.now(), installationId);
    const base = profileRules(
      options.profile ?? (options.legacyNoExpiry ? "2025.3" : DEFAULT_PROFILE),
    );
    this.rules = {
      ...base,
      version: options.version ?? base.version,
      defaultExpiryDays: options.defaultExpiryDays ?? base.defaultExpiryDays,
      maxExpiryDays: options.maxExpiryDays ?? base.maxExpiryDays,
    };
    this.settings = { userApiKeysEnabled: options.userApiKeysEnabled ?? true };
    this.ctx = {
      store: this.store,
      options,
      rules: this.rules,
      settings: this.settings,
      installationId,
      now: () => this.now(),
      link: (path) => `${this.basePath}${path}`,
    };

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
      this.store.insertUser({
        username: `user-${n}`,
        displayName: `Filler User ${n}`,
        email: `user-${n}@example.com`,
      });
    }
  }

  static async start(options: EmulatorOptions = {}): Promise<OctopusEmulator> {
    // Refuse bad options before listening, so a failed start leaves nothing open.
    profileRules(options.profile ?? DEFAULT_PROFILE);
    if (options.userApiKeysEnabled === false && options.userApiKeysSetting === false) {
      throw new Error(
        "userApiKeysEnabled: false needs the User API Keys setting (2023.2+); userApiKeysSetting is false",
      );
    }
    const host = options.host ?? "127.0.0.1";
    if (options.seed !== undefined && !(await isLoopbackHost(host))) {
      // A seed makes every secret predictable, the administrator's key included (the PRNG and its
      // seeding are in this public code): on an address others can reach, anyone could use it.
      throw new Error(
        `A seed makes the administrator's API key predictable, so it is only allowed on loopback; ` +
          `${host} is not (or may not be) a loopback address. Leave out the seed, or listen on 127.0.0.1.`,
      );
    }
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
    const user = this.store.insertUser(u);
    const apiKey = user.isService ? "" : this.seedKey(user);
    return describe(user, apiKey);
  }

  /** Deletes the user and its keys and tokens. */
  deleteUser(id: string): void {
    this.store.deleteUser(this.store.requireUser(id));
  }

  /**
   * Turns the "User API Keys" setting (2023.2+) on or off: when off, users who are not service
   * accounts are refused new keys for themselves; existing keys keep working.
   */
  setUserApiKeysEnabled(enabled: boolean): void {
    if (!enabled && this.options.userApiKeysSetting === false) {
      throw new Error("This server has no User API Keys setting (userApiKeysSetting: false)");
    }
    this.settings.userApiKeysEnabled = enabled;
  }

  /** A disabled user's keys and tokens answer 401. */
  setUserActive(id: string, active: boolean): void {
    this.store.requireUser(id).isActive = active;
  }

  /**
   * Creates a key without the API's rules. `expires` undefined gets the profile's default (180
   * days from 2025.4, never on "2025.3"); null makes a key that never expires. `accessLevel`
   * (default "FullAccess") is shown and enforced from 2026.3; older servers have no such thing.
   */
  createKey(
    userId: string,
    o: { purpose: string; expires?: Date | null; accessLevel?: AccessLevel },
  ): { id: string; secret: string } {
    const user = this.store.requireUser(userId);
    const expires = o.expires === undefined ? defaultExpiry(this.ctx, "omitted") : o.expires;
    const { record, secret } = this.store.insertKey(user, o.purpose, expires, {
      accessLevel: o.accessLevel,
    });
    return { id: record.id, secret };
  }

  /** Revokes a key outside the API (as someone using the web portal would). */
  revokeKey(id: string): void {
    const key = this.store.keyById(id);
    if (!key) throw new Error(`No API key ${id}`);
    this.store.removeKey(key);
  }

  /**
   * A bearer access token for a service account. Octopus' access tokens are "short-lived (1
   * hour)" (docs, OpenID Connect): `expires` defaults to now + `accessTokenLifetimeMs` (1 h);
   * after it the token answers 401.
   */
  issueAccessToken(userId: string, expires?: Date): string {
    const user = this.store.requireUser(userId);
    if (!user.isService) {
      throw new Error(
        `Access tokens are only issued to service accounts; ${user.username} is not one`,
      );
    }
    const lifetime = this.options.accessTokenLifetimeMs ?? HOUR_MS;
    return this.store.issueToken(
      user,
      this.url,
      expires ?? new Date(this.now().getTime() + lifetime),
    );
  }

  /** Ids of the keys that exist with `purpose`, whoever owns them, sorted: what a test compares. */
  liveKeyIds(purpose: string): string[] {
    return this.store
      .keysNewestFirst((k) => k.purpose === purpose)
      .map((k) => k.id)
      .sort();
  }

  /** Keys that exist (not revoked, user not deleted), expired ones included; newest first; no secrets. */
  liveKeys(userId?: string): LiveKey[] {
    const wanted = userId?.toLowerCase();
    return this.store
      .keysNewestFirst((k) => wanted === undefined || k.userId.toLowerCase() === wanted)
      .map((k) => ({
        Id: k.id,
        UserId: k.userId,
        Purpose: k.purpose,
        Created: formatOctopusDate(k.created),
        Expires: k.expires ? formatOctopusDate(k.expires) : null,
        expires: k.expires ? k.expires.toISOString() : null,
        accessLevel: this.rules.keyAccessFields ? k.accessLevel : null,
        lastUsed: k.lastUsed ? k.lastUsed.toISOString() : null,
      }));
  }

  hasKey(id: string): boolean {
    return this.store.keyById(id) !== undefined;
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

  private seedUser(u: NewUser): SeededUser {
    const user = this.store.insertUser(u);
    return describe(user, this.seedKey(user));
  }

  /** Seed keys stand for keys made before 2025.4 (never expire) and before last-use tracking. */
  private seedKey(user: UserRecord): string {
    return this.store.insertKey(user, "Emulator seed", null, { lastUsedKnown: false }).secret;
  }

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
        ? { kind: "portal", method, name: `${method} (other)`, step: undefined }
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

    if (fault?.kind === "latency") await this.sleep(fault.ms);
    const early = fault ? faultBefore(fault, this.options.errorBodies) : undefined;
    if (early === "drop") {
      req.socket.destroy();
      return;
    }
    if (early) {
      this.send(req, res, early);
      return;
    }

    const reply: Reply =
      relPath === undefined
        ? { status: 404, contentType: HTML_TYPE, body: "<html><body>Not Found</body></html>\n" }
        : dispatch(this.ctx, route, query, req.headers, body);
    const sent = faultAfter(fault, reply);
    if (sent === "drop") {
      req.socket.destroy();
      return;
    }
    this.send(req, res, sent);
  }

  private send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
    if (req.socket.destroyed || res.headersSent) return;
    const buffer = Buffer.from(reply.body, "utf8");
    res.statusCode = reply.status;
    if (reply.contentType !== null) res.setHeader("Content-Type", reply.contentType ?? JSON_TYPE);
    // A 204 carries no body and, per RFC 9110, no Content-Length.
    if (reply.status !== 204) res.setHeader("Content-Length", buffer.length);
    res.setHeader("X-Content-Type-Options", "nosniff");
    // The server's own clock, as a real server's Date header is (clients may estimate skew from
    // it), or a reverse proxy's, off by `dateHeaderOffsetMs` (nginx stamps its own by default).
    const stamped = this.now().getTime() + (this.options.dateHeaderOffsetMs ?? 0);
    res.setHeader("Date", new Date(stamped).toUTCString());
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
}

function describe(user: UserRecord, apiKey: string): SeededUser {
  return {
    id: user.id,
    username: user.username,
    apiKey,
    isService: user.isService,
    isAdmin: user.isAdmin,
    identificationToken: user.identificationToken,
  };
}
