import type { FaultRule, FaultStep } from "../../emulator/faults";
import { OctopusEmulator } from "../../emulator/server";
import type { ProfileName } from "../../emulator/profiles";
import { type Door, type DoorEngine, startEngine } from "../../harness/doors";
import { hostEnv, realProviderText } from "../../harness/engine";

// The fault matrix: every fault the emulator can inject, at every step the provider takes,
// through one front door (the real dynamic provider host, or the plugin). After each case the emulator's keys and the engine's state
// must agree: no live key that state does not track, no tracked key that does not exist.
// Keys have an explicit lifetime, which lets a lost create's key be proven and revoked. With the
// server's default expiry nothing proves it, so a lost create leaves the key and names it: those
// cases require every untracked key to be named in the failure, and nothing revoked.

const FAULTS: Array<{ name: string; rule: Omit<FaultRule, "step">; steps?: FaultStep[] }> = [
  { name: "latency beyond the timeout", rule: { kind: "latency", ms: 1_500 } },
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

type Lifetime = "expiresIn" | "default expiry";
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
 * The matrix on one server profile, at `steps`, through `door`. The faults meet the same
 * transport on every profile; what differs between Octopus versions is what a create makes
 * (expiry defaults, key fields), so the create step runs on every profile and the others on the
 * default one. Both doors share that transport and lifecycle, so the plugin's run needs no more
 * than the default profile's full matrix.
 */
export function faultMatrix(
  profile: ProfileName,
  steps: readonly FaultStep[] = STEPS,
  door: Door = "dynamic",
): void {
  const cases = casesAt(steps);

  let emulator: OctopusEmulator;
  let engine: DoorEngine;
  const messages: string[] = [];
  /** Every secret key the run created, and every output that is not declared secret. */
  const createdSecrets = new Set<string>();
  const plainOutputs: string[] = [];
  const figures = { cases: 0, operations: 0, failures: 0, orphans: 0, phantoms: 0, named: 0 };

  /** Runs one operation, recording its failure message instead of throwing. */
  async function attempt(operation: () => Promise<unknown>): Promise<boolean> {
    figures.operations++;
    try {
      await operation();
      return true;
    } catch (error) {
      figures.failures++;
      messages.push(`${(error as Error).message}\n${(error as Error).stack ?? ""}`);
      if (process.env.SHOW_FAULT_MESSAGES) console.log((error as Error).message);
      return false;
    }
  }

  function liveWith(purpose: string): string[] {
    return emulator
      .liveKeys()
      .filter((k) => k.Purpose === purpose)
      .map((k) => k.Id)
      .sort();
  }

  /** Live keys with `purpose` on the emulator must be exactly the keys state tracks with it. */
  async function expectAgreement(purpose: string): Promise<void> {
    await emulator.idle();
    const stored = [...engine.state.keys()].map((name) => ({
      id: engine.state.get(name)!.id,
      outputs: engine.outputs(name),
    }));
    for (const { outputs } of stored) {
      const { apiKey, connection: _secret, ...plain } = outputs;
      createdSecrets.add(String(apiKey));
      plainOutputs.push(JSON.stringify(plain));
    }
    const live = liveWith(purpose);
    const tracked = stored
      .filter((r) => r.outputs.purpose === purpose)
      .map((r) => r.id)
      .sort();
    figures.orphans += live.filter((id) => !tracked.includes(id)).length;
    figures.phantoms += tracked.filter((id) => !live.includes(id)).length;
    expect(live).toEqual(tracked);
  }

  beforeAll(async () => {
    emulator = await OctopusEmulator.start({ profile });
    engine = await startEngine(door, {
      env: hostEnv({
        OCTOPUS_URL: emulator.url,
        OCTOPUS_API_KEY: emulator.admin.apiKey,
        OCTOPUS_REQUEST_TIMEOUT: "500",
      }),
    });
  });

  afterAll(async () => {
    await engine?.close();
    await emulator?.close();
  });

  test.each(cases)("%s at %s (%s): state and server agree", async (name, step, lifetime, rule) => {
    figures.cases++;
    const purpose = `matrix ${name} at ${step} ${lifetime}`;
    const resource = `${step}-${name}-${lifetime}`;
    // A user of its own per case, so that the user lookup is not already cached.
    const user = emulator.addUser({ username: `robot ${purpose}`, isService: true });
    const program = {
      purpose,
      username: user.username,
      ...(lifetime === "expiresIn" ? { expiresIn: "30d" } : {}),
    };

    if (step === "lookup" || step === "create") {
      emulator.faults.add({ ...rule, step });
      const failed = messages.length;
      await attempt(() => engine.up(resource, program));
      emulator.faults.clear();
      if (lifetime === "default expiry") {
        // Unprovable: the key a lost create made is left alone and named in the failure.
        await emulator.idle();
        const untracked = liveWith(purpose).filter((id) => engine.state.get(resource)?.id !== id);
        for (const id of untracked) {
          expect(messages.slice(failed).join("\n")).toContain(id);
          expect(messages.slice(failed).join("\n")).toMatch(/None was revoked/);
          emulator.revokeKey(id);
          figures.named++;
        }
      }
      await expectAgreement(purpose);
    } else {
      await engine.up(resource, program);
      emulator.faults.add({ ...rule, step });
      const ok = await attempt(() =>
        step === "read" ? engine.refresh(resource) : engine.destroy(resource),
      );
      emulator.faults.clear();
      await expectAgreement(purpose);
      if (step === "read") {
        // A refresh never drops a key that still exists, whatever went wrong.
        expect(engine.state.has(resource)).toBe(true);
        expect(ok || messages.length > 0).toBe(true);
      }
    }
    // Whatever is left is cleaned up without faults, and the server agrees.
    if (engine.state.has(resource)) await engine.destroy(resource);
    await expectAgreement(purpose);
  });

  test("no secret appears in any message, stack, process output, provider text or plain output", async () => {
    const text = door === "dynamic" ? (await realProviderText()).text : "";
    const haystack = [...messages, engine.output(), text, ...plainOutputs].join("\n");
    const secrets = [emulator.admin.apiKey, ...createdSecrets];
    const leaks = secrets.filter((s) => s && haystack.includes(s)).length;
    const shaped = haystack.match(/API-[A-Z0-9]{16,}/g) ?? [];
    console.log(
      `fault matrix (${door}, Octopus ${profile}): ${figures.cases} cases, ${emulator.faults.total()} faults injected, ` +
        `${figures.operations} operations (${figures.failures} failed cleanly), ` +
        `${figures.orphans} orphans, ${figures.phantoms} phantoms, ` +
        `${figures.named} default-expiry keys named for a person to revoke, ${leaks + shaped.length} leaks ` +
        `in ${messages.length} messages, ${plainOutputs.length} plain output sets and ${engine.output().length} bytes of process output`,
    );
    expect(figures.cases).toBe(cases.length);
    expect(emulator.faults.total()).toBeGreaterThanOrEqual(cases.length);
    expect(figures.orphans + figures.phantoms).toBe(0);
    // The default-expiry create cases whose request was processed: drop after, truncated JSON,
    // no ApiKey, and latency beyond the timeout.
    expect(figures.named).toBe(steps.includes("create") ? 4 : 0);
    // Secrets to look for: every case that reads or revokes made a key first.
    expect(createdSecrets.size).toBeGreaterThan(steps.length === STEPS.length ? 10 : 1);
    expect(leaks).toBe(0);
    expect(shaped).toEqual([]);
  });
}
