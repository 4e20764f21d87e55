import type { FaultRule, FaultStep } from "../../emulator/faults";
import type { ProfileName } from "../../emulator/profiles";
import { OctopusEmulator } from "../../emulator/server";
import { type Door, type DoorEngine, startEngine } from "../../harness/doors";
import { hostEnv, realProviderText } from "../../harness/engine";

/** Where the fault matrix runs: one front door against an emulator playing one Octopus version. */
export interface LaneSpec {
  door: Door;
  profile: ProfileName;
}

export type Lifetime = "expiresIn" | "default expiry";

/**
 * One lane of the fault matrix (./fault-matrix): an emulator of its own and a provider process
 * through one door, with what the lane's cases said (failure messages, outputs) and counted. Its
 * faults are injected into its own emulator only, so lanes run a case at the same time.
 */
export class FaultLane {
  emulator!: OctopusEmulator;
  engine!: DoorEngine;
  readonly messages: string[] = [];
  /** Every secret key the lane created, and every output that is not declared secret. */
  readonly createdSecrets = new Set<string>();
  readonly plainOutputs: string[] = [];
  readonly figures = { cases: 0, operations: 0, failures: 0, orphans: 0, phantoms: 0, named: 0 };

  constructor(readonly spec: LaneSpec) {}

  get label(): string {
    return `${this.spec.door}, Octopus ${this.spec.profile}`;
  }

  async start(): Promise<void> {
    this.emulator = await OctopusEmulator.start({ profile: this.spec.profile });
    this.engine = await startEngine(this.spec.door, {
      env: hostEnv({
        OCTOPUS_URL: this.emulator.url,
        OCTOPUS_API_KEY: this.emulator.admin.apiKey,
        // Short, so that "latency beyond the timeout" is quick; long enough for a loaded machine.
        OCTOPUS_REQUEST_TIMEOUT: "1000",
      }),
    });
  }

  async close(): Promise<void> {
    await this.engine?.close();
    await this.emulator?.close();
  }

  /** Runs one operation, recording its failure message instead of throwing. */
  private async attempt(operation: () => Promise<unknown>): Promise<boolean> {
    this.figures.operations++;
    try {
      await operation();
      return true;
    } catch (error) {
      this.figures.failures++;
      this.messages.push(`${(error as Error).message}\n${(error as Error).stack ?? ""}`);
      if (process.env.SHOW_FAULT_MESSAGES) console.log((error as Error).message);
      return false;
    }
  }

  /** Live keys with `purpose` on the emulator must be exactly the keys state tracks with it. */
  private async expectAgreement(purpose: string): Promise<void> {
    await this.emulator.idle();
    const stored = [...this.engine.state.keys()].map((name) => ({
      id: this.engine.state.get(name)!.id,
      outputs: this.engine.outputs(name),
    }));
    for (const { outputs } of stored) {
      const { apiKey, connection: _secret, ...plain } = outputs;
      this.createdSecrets.add(String(apiKey));
      this.plainOutputs.push(JSON.stringify(plain));
    }
    const live = this.emulator.liveKeyIds(purpose);
    const tracked = stored
      .filter((r) => r.outputs.purpose === purpose)
      .map((r) => r.id)
      .sort();
    this.figures.orphans += live.filter((id) => !tracked.includes(id)).length;
    this.figures.phantoms += tracked.filter((id) => !live.includes(id)).length;
    expect(live).toEqual(tracked);
  }

  /** One case: `rule` injected at `step`, then state and server must agree. */
  async runCase(
    name: string,
    step: FaultStep,
    lifetime: Lifetime,
    rule: Omit<FaultRule, "step">,
  ): Promise<void> {
    const { emulator, engine } = this;
    this.figures.cases++;
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
      const failed = this.messages.length;
      await this.attempt(() => engine.up(resource, program));
      emulator.faults.clear();
      if (lifetime === "default expiry") {
        // Unprovable: the key a lost create made is left alone and named in the failure.
        await emulator.idle();
        const ownId = engine.state.get(resource)?.id;
        const untracked = this.emulator.liveKeyIds(purpose).filter((id) => ownId !== id);
        for (const id of untracked) {
          expect(this.messages.slice(failed).join("\n")).toContain(id);
          expect(this.messages.slice(failed).join("\n")).toMatch(/None was revoked/);
          emulator.revokeKey(id);
          this.figures.named++;
        }
      }
      await this.expectAgreement(purpose);
    } else {
      await engine.up(resource, program);
      emulator.faults.add({ ...rule, step });
      const ok = await this.attempt(() =>
        step === "read" ? engine.refresh(resource) : engine.destroy(resource),
      );
      emulator.faults.clear();
      await this.expectAgreement(purpose);
      if (step === "read") {
        // A refresh never drops a key that still exists, whatever went wrong.
        expect(engine.state.has(resource)).toBe(true);
        expect(ok || this.messages.length > 0).toBe(true);
      }
    }
    // Whatever is left is cleaned up without faults, and the server agrees.
    if (engine.state.has(resource)) await engine.destroy(resource);
    await this.expectAgreement(purpose);
  }

  /** After every case: the figures add up, and no secret leaked anywhere the lane can see. */
  async expectCleanRun(cases: number, steps: readonly FaultStep[], all: boolean): Promise<void> {
    const { emulator, engine, figures, messages, plainOutputs } = this;
    const text = engine.door === "dynamic" ? (await realProviderText()).text : "";
    const haystack = [...messages, engine.output(), text, ...plainOutputs].join("\n");
    const secrets = [emulator.admin.apiKey, ...this.createdSecrets];
    const leaks = secrets.filter((s) => s && haystack.includes(s)).length;
    const shaped = haystack.match(/API-[A-Z0-9]{16,}/g) ?? [];
    console.log(
      `fault matrix (${this.label}): ${figures.cases} cases, ${emulator.faults.total()} faults injected, ` +
        `${figures.operations} operations (${figures.failures} failed cleanly), ` +
        `${figures.orphans} orphans, ${figures.phantoms} phantoms, ` +
        `${figures.named} default-expiry keys named for a person to revoke, ${leaks + shaped.length} leaks ` +
        `in ${messages.length} messages, ${plainOutputs.length} plain output sets and ${engine.output().length} bytes of process output`,
    );
    expect(figures.cases).toBe(cases);
    expect(emulator.faults.total()).toBeGreaterThanOrEqual(cases);
    expect(figures.orphans + figures.phantoms).toBe(0);
    // The default-expiry create cases whose request was processed: drop after, truncated JSON,
    // no ApiKey, and latency beyond the timeout.
    expect(figures.named).toBe(steps.includes("create") ? 4 : 0);
    // Secrets to look for: every case that reads or revokes made a key first.
    expect(this.createdSecrets.size).toBeGreaterThan(all ? 10 : 1);
    expect(leaks).toBe(0);
    expect(shaped).toEqual([]);
  }
}
