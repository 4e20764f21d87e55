import * as path from "node:path";
import { OctopusApiKey } from "../provider";
import type { OctopusApiKeyArgs } from "../provider";
import { ProviderHost, resourceUrn, startProviderHost } from "./host";
import { captureProviderText, Registration } from "./mocks";

type Props = Record<string, unknown>;

/** Settings that would steer a provider host away from a test's setup: Octopus's and proxies. */
const STEERING = /^(OCTOPUS_|(https?|no|all|grpc)_proxy$)/i;

/** This process's environment without Octopus or proxy settings, plus `extra`. */
export function hostEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (STEERING.test(name)) delete env[name];
  return { ...env, ...extra };
}

/** {@link hostEnv} pointed at an emulator, authenticated as its administrator. */
export function emulatorEnv(
  emulator: { url: string; admin: { apiKey: string } },
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  return hostEnv({ OCTOPUS_URL: emulator.url, OCTOPUS_API_KEY: emulator.admin.apiKey, ...extra });
}

/** The repository root: a Pulumi project (it holds Pulumi.yaml), where the engine runs the host. */
export const repoRoot = path.resolve(__dirname, "..", "..");

let captured: Promise<{ text: string; registrations: Registration[] }> | undefined;

/** The `__provider` text and registration of the real OctopusApiKey class, as the engine gets them. */
export function realProviderText(
  args: OctopusApiKeyArgs = { purpose: "captured" },
): Promise<{ text: string; registrations: Registration[] }> {
  captured ??= captureProviderText(() => {
    new OctopusApiKey("captured", args);
  });
  return captured;
}

export interface StoredResource {
  id: string;
  inputs: Props;
  outputs: Props;
}

export type Step = "create" | "same" | "update" | "replace";

/**
 * What the Pulumi engine does with one dynamic resource, reduced to its calls: `up` runs Check,
 * then Create, or Diff followed by Update or a create-before-delete replacement; `refresh` runs
 * Read; `destroy` runs Delete. State is kept here, as the engine keeps it.
 */
export class Engine {
  readonly state = new Map<string, StoredResource>();

  constructor(
    readonly host: ProviderHost,
    readonly providerText: string,
  ) {}

  /** Starts a provider host in `cwd` (the repository root by default) and configures it. */
  static async start(
    options: {
      env?: NodeJS.ProcessEnv;
      config?: Record<string, string>;
      cwd?: string;
      providerText?: string;
    } = {},
  ): Promise<Engine> {
    const text = options.providerText ?? (await realProviderText()).text;
    const host = await startProviderHost({ cwd: options.cwd ?? repoRoot, env: options.env });
    await host.configure(options.config ?? {}, { secretKeys: Object.keys(options.config ?? {}) });
    return new Engine(host, text);
  }

  urn(name: string): string {
    return resourceUrn(name);
  }

  async up(name: string, program: Props): Promise<{ step: Step; replaces?: string[] }> {
    const news = { ...program, __provider: this.providerText };
    const old = this.state.get(name);
    const checked = await this.host.check(this.urn(name), old?.inputs ?? {}, news);
    if (checked.failures.length > 0) {
      throw new Error(
        `check failed: ${checked.failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`,
      );
    }
    if (!old) {
      const created = await this.host.create(this.urn(name), checked.inputs);
      this.state.set(name, { id: created.id, inputs: checked.inputs, outputs: created.properties });
      return { step: "create" };
    }
    const diff = await this.host.diff(old.id, this.urn(name), old.outputs, checked.inputs);
    if (diff.changes === "none") return { step: "same" };
    if (diff.replaces.length === 0) {
      const updated = await this.host.update(old.id, this.urn(name), old.outputs, checked.inputs);
      this.state.set(name, { id: old.id, inputs: checked.inputs, outputs: updated.properties });
      return { step: "update" };
    }
    // deleteBeforeReplace is false: the replacement exists before the old key is revoked.
    const created = await this.host.create(this.urn(name), checked.inputs);
    this.state.set(name, { id: created.id, inputs: checked.inputs, outputs: created.properties });
    await this.host.delete(old.id, this.urn(name), old.outputs);
    return { step: "replace", replaces: diff.replaces };
  }

  async refresh(name: string): Promise<"kept" | "gone"> {
    const old = this.required(name);
    const read = await this.host.read(old.id, this.urn(name), old.outputs, old.inputs);
    if (!read.id) {
      this.state.delete(name);
      return "gone";
    }
    this.state.set(name, { ...old, id: read.id, outputs: read.properties });
    return "kept";
  }

  async destroy(name: string): Promise<void> {
    const old = this.required(name);
    await this.host.delete(old.id, this.urn(name), old.outputs);
    this.state.delete(name);
  }

  outputs(name: string): Props {
    return this.required(name).outputs;
  }

  close(): Promise<void> {
    return this.host.close();
  }

  private required(name: string): StoredResource {
    const stored = this.state.get(name);
    if (!stored) throw new Error(`no resource ${name} in state`);
    return stored;
  }
}

/** The message of the error `operation` fails with; throws if it succeeds. */
export async function failureMessage(operation: Promise<unknown>): Promise<string> {
  try {
    await operation;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected the operation to fail");
}
