import { RandomSource, seededRandom } from "./random";
import {
  HTML_TYPE,
  MSG_BAD_REQUEST,
  MSG_UNAVAILABLE,
  STATUS_MESSAGES,
  fail,
  json,
  loginPage,
  proxyErrorPage,
  securityFail,
  type ErrorStyle,
  type Reply,
} from "./replies";

export type FaultKind =
  /** Delay `ms` before processing; the request is still processed if the client has gone. */
  | "latency"
  /** Answer `status` (default 503) without processing. */
  | "status"
  /** 429 with `Retry-After: retryAfter` (default 1) and an Octopus error body; not processed. */
  | "rateLimit"
  /** Destroy the socket without processing. */
  | "dropBefore"
  /** Process the request (state changes happen), then destroy the socket without a response. */
  | "dropAfter"
  /** 200 text/html login page, as a proxy or SSO front door would; not processed. */
  | "html"
  /** Process, then answer 200 application/json with a truncated body. */
  | "invalidJson"
  /** Key creation only: process, then answer 200 with the created key lacking `ApiKey`. */
  | "noApiKey";

/**
 * lookup = GET /api/users/me, /api/users/{id}, /api/users?filter..., /api/users/all;
 * create = POST /api/users/{id}/apikeys; read = GET /api/users/{id}/apikeys/{keyId};
 * list = GET /api/users/{id}/apikeys; revoke = DELETE /api/users/{id}/apikeys/{keyId};
 * root = GET /api; any = every request.
 */
export type FaultStep = "lookup" | "create" | "read" | "list" | "revoke" | "root" | "any";

export interface FaultRule {
  step?: FaultStep;
  /** HTTP method, case-insensitive. */
  method?: string;
  /** Tested against the path after the base path, without the query string. */
  path?: RegExp;
  kind: FaultKind;
  /** How many matching requests this rule fires on; default 1, `Infinity` allowed. */
  count?: number;
  /** For `latency`: the delay; default 1000. */
  ms?: number;
  /** For `status`: the status code; default 503. */
  status?: number;
  /** For `rateLimit`: the Retry-After seconds; default 1. */
  retryAfter?: number;
}

export interface RandomFaultOptions {
  /** Probability in [0, 1] that a matching request gets a fault. */
  rate: number;
  kinds: FaultKind[];
  /** Steps that may get faults; default every step. */
  steps?: FaultStep[];
  /** Delay for `latency` faults; default 100. */
  ms?: number;
  /** PRNG seed; default derived from the emulator's seed (or random). */
  seed?: number;
}

export interface FaultInjector {
  /** Rules are consumed in order, each firing `count` times on matching requests. */
  add(rule: FaultRule): void;
  /** Inject random faults at `rate` on requests no rule claimed (seeded PRNG). */
  random(o: RandomFaultOptions): void;
  /** Removes rules and random mode (the `injected` counts are kept). */
  clear(): void;
  /** Counts, by kind, of faults actually injected. */
  readonly injected: Record<string, number>;
  total(): number;
}

/** What the emulator knows about a request when it decides on a fault. */
export interface FaultContext {
  /** Undefined for requests that are not one of the stepped routes. */
  step: Exclude<FaultStep, "any"> | undefined;
  method: string;
  path: string;
}

export interface ChosenFault {
  kind: FaultKind;
  ms: number;
  status: number;
  retryAfter: number;
}

/** Every kind of fault the emulator can inject. */
export const FAULT_KINDS: readonly FaultKind[] = [
  "latency",
  "status",
  "rateLimit",
  "dropBefore",
  "dropAfter",
  "html",
  "invalidJson",
  "noApiKey",
];
const KINDS: ReadonlySet<string> = new Set<FaultKind>(FAULT_KINDS);
const STEPS: ReadonlySet<string> = new Set<FaultStep>([
  "lookup",
  "create",
  "read",
  "list",
  "revoke",
  "root",
  "any",
]);
/** Random `status` faults vary like real outages: a proxy's 502/504 or Octopus' own 503. */
const RANDOM_STATUSES = [502, 503, 504];

function applicable(kind: FaultKind, ctx: FaultContext): boolean {
  return kind !== "noApiKey" || ctx.step === "create";
}

function stepMatches(step: FaultStep | undefined, ctx: FaultContext): boolean {
  return step === undefined || step === "any" || step === ctx.step;
}

/** The emulator's fault injector: explicit rules first, in order; otherwise random mode rolls. */
export class FaultEngine implements FaultInjector {
  readonly injected: Record<string, number> = {};
  private rules: Array<{ rule: FaultRule; remaining: number }> = [];
  private randomMode: (Omit<RandomFaultOptions, "seed"> & { rng: RandomSource }) | undefined;

  constructor(private readonly defaultSeed: () => number) {}

  add(rule: FaultRule): void {
    if (!KINDS.has(rule.kind)) throw new Error(`Unknown fault kind: ${String(rule.kind)}`);
    if (rule.step !== undefined && !STEPS.has(rule.step)) {
      throw new Error(`Unknown fault step: ${String(rule.step)}`);
    }
    const remaining = rule.count ?? 1;
    if (!(remaining >= 0)) throw new Error(`Fault count must be >= 0, got ${rule.count}`);
    this.rules.push({ rule: { ...rule }, remaining });
  }

  random(o: RandomFaultOptions): void {
    if (!(o.rate >= 0 && o.rate <= 1))
      throw new Error(`Fault rate must be in [0, 1], got ${o.rate}`);
    if (o.kinds.length === 0) throw new Error("Random faults need at least one kind");
    for (const kind of o.kinds) {
      if (!KINDS.has(kind)) throw new Error(`Unknown fault kind: ${String(kind)}`);
    }
    this.randomMode = {
      rate: o.rate,
      kinds: [...o.kinds],
      steps: o.steps ? [...o.steps] : undefined,
      ms: o.ms,
      rng: seededRandom(o.seed ?? this.defaultSeed()),
    };
  }

  clear(): void {
    this.rules = [];
    this.randomMode = undefined;
  }

  total(): number {
    return Object.values(this.injected).reduce((sum, n) => sum + n, 0);
  }

  /** Decides (and counts) the fault for one request, or returns undefined. */
  choose(ctx: FaultContext): ChosenFault | undefined {
    const chosen = this.fromRules(ctx) ?? this.fromRandom(ctx);
    if (chosen) this.injected[chosen.kind] = (this.injected[chosen.kind] ?? 0) + 1;
    return chosen;
  }

  private fromRules(ctx: FaultContext): ChosenFault | undefined {
    for (const entry of this.rules) {
      const { rule } = entry;
      if (entry.remaining <= 0) continue;
      if (!stepMatches(rule.step, ctx)) continue;
      if (rule.method !== undefined && rule.method.toUpperCase() !== ctx.method) continue;
      if (rule.path) {
        rule.path.lastIndex = 0;
        if (!rule.path.test(ctx.path)) continue;
      }
      if (!applicable(rule.kind, ctx)) continue;
      entry.remaining -= 1;
      this.rules = this.rules.filter((e) => e.remaining > 0);
      return {
        kind: rule.kind,
        ms: rule.ms ?? 1000,
        status: rule.status ?? 503,
        retryAfter: rule.retryAfter ?? 1,
      };
    }
    return undefined;
  }

  private fromRandom(ctx: FaultContext): ChosenFault | undefined {
    const mode = this.randomMode;
    if (!mode) return undefined;
    if (mode.steps && !mode.steps.some((step) => stepMatches(step, ctx))) return undefined;
    if (mode.rng.next() >= mode.rate) return undefined;
    const kinds = mode.kinds.filter((kind) => applicable(kind, ctx));
    if (kinds.length === 0) return undefined;
    const kind = kinds[mode.rng.int(kinds.length)];
    return {
      kind,
      ms: mode.ms ?? 100,
      status: kind === "status" ? RANDOM_STATUSES[mode.rng.int(RANDOM_STATUSES.length)] : 503,
      retryAfter: 1,
    };
  }
}

/**
 * The reply for a fault that replaces processing (`status`, `rateLimit`, `html`), "drop" for
 * `dropBefore`, or undefined when the request is to be processed (`latency` waits first, in the
 * server, and the kinds that act on the answer are applied by `faultAfter`).
 */
export function faultBefore(
  fault: ChosenFault,
  style: ErrorStyle = "errors",
): Reply | "drop" | undefined {
  switch (fault.kind) {
    case "dropBefore":
      return "drop";
    case "rateLimit":
      return {
        ...fail(429, "You have made too many requests. Please wait and try again."),
        headers: { "Retry-After": String(fault.retryAfter) },
      };
    case "html":
      return { status: 200, contentType: HTML_TYPE, body: loginPage() };
    case "status":
      if (fault.status === 502 || fault.status === 504) {
        return { status: fault.status, contentType: HTML_TYPE, body: proxyErrorPage(fault.status) };
      }
      if (fault.status === 401 || fault.status === 403) {
        return securityFail(style, fault.status, STATUS_MESSAGES[fault.status]);
      }
      return fail(
        fault.status,
        STATUS_MESSAGES[fault.status] ?? (fault.status >= 500 ? MSG_UNAVAILABLE : MSG_BAD_REQUEST),
      );
    default:
      return undefined;
  }
}

/** The answer actually sent for a processed request, or "drop" (`dropAfter`). */
export function faultAfter(fault: ChosenFault | undefined, reply: Reply): Reply | "drop" {
  switch (fault?.kind) {
    case "dropAfter":
      return "drop";
    case "invalidJson":
      // Any proper prefix of a JSON object or array is invalid JSON.
      return {
        status: 200,
        body: reply.body.slice(0, Math.max(1, Math.floor(reply.body.length / 2))),
      };
    case "noApiKey": {
      if (!reply.createdKey) return reply;
      const stripped = { ...reply.createdKey };
      delete stripped.ApiKey;
      return json(200, stripped);
    }
    default:
      return reply;
  }
}
