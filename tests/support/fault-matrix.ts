import type { FaultRule, FaultStep } from "../../emulator/faults";
import { FaultLane, type LaneSpec, type Lifetime } from "./fault-lane";

// The fault matrix: every fault the emulator can inject, at every step the provider takes,
// through a front door (the real dynamic provider host, or the plugin). After each case the
// emulator's keys and the engine's state must agree: no live key that state does not track, no
// tracked key that does not exist.
// Keys have an explicit lifetime, which lets a lost create's key be proven and revoked. With the
// server's default expiry nothing proves it, so a lost create leaves the key and names it: those
// cases require every untracked key to be named in the failure, and nothing revoked.

const FAULTS: Array<{ name: string; rule: Omit<FaultRule, "step">; steps?: FaultStep[] }> = [
  { name: "latency beyond the timeout", rule: { kind: "latency", ms: 2_500 } },
  { name: "503 burst", rule: { kind: "status", status: 503, count: 3 } },
  { name: "502/504 from a gateway", rule: { kind: "status", status: 502, count: 2 } },
  { name: "500", rule: { kind: "status", status: 500 } },
  { name: "429 with Retry-After", rule: { kind: "rateLimit", retryAfter: 1 } },
  { name: "drop before processing", rule: { kind: "dropBefore" } },
  { name: "drop after processing", rule: { kind: "dropAfter" } },
  { name: "HTML page with 200", rule: { kind: "html" } },
  { name: "truncated JSON", rule: { kind: "invalidJson" } },
  { name: "created key without ApiKey", rule: { kind: "noApiKey" }, steps: ["create"] },
];
export const STEPS: FaultStep[] = ["lookup", "create", "read", "revoke"];

const casesAt = (steps: readonly FaultStep[]) =>
  FAULTS.flatMap((fault) =>
    (fault.steps ?? STEPS)
      .filter((step) => steps.includes(step))
      .flatMap((step) =>
        (step === "create" ? ["expiresIn", "default expiry"] : ["expiresIn"]).map(
          (lifetime) => [fault.name, step, lifetime as Lifetime, fault.rule] as const,
        ),
      ),
  );

/**
 * The matrix at `steps`, run on every lane at once: each lane is a front door against an
 * emulator of its own playing one Octopus version (./fault-lane), so a case's faults reach only
 * its own lane while the lanes' waits (timeouts, retries, `Retry-After`) overlap. The faults meet
 * the same transport on every profile; what differs between Octopus versions is what a create
 * makes (expiry defaults, key fields), so the create step runs on every profile and the others on
 * the default one. Both doors share that transport and lifecycle, so the plugin's lane needs no
 * more than the default profile's full matrix.
 */
export function faultMatrix(specs: readonly LaneSpec[], steps: readonly FaultStep[] = STEPS): void {
  const cases = casesAt(steps);
  const lanes = specs.map((spec) => new FaultLane(spec));

  beforeAll(() => Promise.all(lanes.map((lane) => lane.start())));
  afterAll(() => Promise.all(lanes.map((lane) => lane.close())));

  test.each(cases)("%s at %s (%s): state and server agree", (name, step, lifetime, rule) =>
    onEveryLane(lanes, (lane) => lane.runCase(name, step, lifetime, rule)),
  );

  test.each(lanes.map((lane) => [lane.label, lane] as const))(
    "%s: no secret appears in any message, stack, process output, provider text or plain output",
    (_label, lane) => lane.expectCleanRun(cases.length, steps, steps.length === STEPS.length),
  );
}

/** Runs `work` on every lane at once; a lane's failure is thrown with the lane's name. */
async function onEveryLane(
  lanes: readonly FaultLane[],
  work: (lane: FaultLane) => Promise<void>,
): Promise<void> {
  const results = await Promise.allSettled(lanes.map(work));
  const failed = results.flatMap((result, i) =>
    result.status === "rejected" ? [{ lane: lanes[i], error: result.reason as Error }] : [],
  );
  if (failed.length === 0) return;
  const { lane, error } = failed[0];
  const others = failed.slice(1).map((f) => `${f.lane.label}: ${f.error.message}`);
  error.message = [`on ${lane.label}: ${error.message}`, ...others].join("\n\nand on ");
  throw error;
}
