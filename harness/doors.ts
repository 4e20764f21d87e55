/**
 * One engine replay for both front doors of the key's lifecycle: the dynamic resource (run by
 * Pulumi's dynamic provider host, ./engine) and the resource plugin (./plugin-engine). A test
 * written against {@link DoorEngine} runs unchanged on either door: property bags go in and come
 * out plain (secrets unwrapped, no `__provider`), provider configuration is stated once by setting
 * name and each door sends it as the engine would, and a message naming a setting asks the door
 * for that setting's name. What only one door does stays reachable through `door` and the
 * door-specific fields (`engine`, `plugin`, `state`).
 */
import { CONNECTION_SETTINGS, INPUTS, OUTPUTS, SettingName } from "../provider/core/fields";
import { settingName } from "../provider/plugin/config";
import { Engine, repoRoot, StoredResource } from "./engine";
import { HostCallError } from "./host";
import { launchPlugin, Plugin, PluginCallError, reveal, secret } from "./plugin";
import { PluginEngine } from "./plugin-engine";

type Props = Record<string, unknown>;

export type Door = "dynamic" | "plugin";
export const DOORS: readonly Door[] = ["dynamic", "plugin"];

/** Provider configuration by setting name, as a test states it once for both doors. */
export type DoorConfig = Partial<Record<SettingName, string | number | boolean>>;

export type Step = "create" | "same" | "update" | "replace";
export type Changes = "none" | "some" | "unknown";

export interface Failure {
  property: string;
  reason: string;
}

/** Calls as the engine makes them, on plain property bags, for a resource named `name`. */
export interface RawCalls {
  check(name: string, olds: Props, news: Props): Promise<{ inputs: Props; failures: Failure[] }>;
  /** `olds` = stored outputs, `news` = checked inputs, `oldInputs` = stored inputs. */
  diff(
    name: string,
    id: string,
    olds: Props,
    news: Props,
    oldInputs?: Props,
  ): Promise<{ changes: Changes; replaces: string[]; deleteBeforeReplace: boolean }>;
  create(name: string, inputs: Props): Promise<{ id: string; properties: Props }>;
  /** `id` is `""` when the key is gone. */
  read(
    name: string,
    id: string,
    properties: Props,
    inputs?: Props,
  ): Promise<{ id: string; properties: Props; inputs?: Props }>;
  update(
    name: string,
    id: string,
    olds: Props,
    news: Props,
    oldInputs?: Props,
  ): Promise<{ properties: Props }>;
  delete(name: string, id: string, properties: Props): Promise<void>;
}

/** What the Pulumi engine does with keys through one front door (see ./engine, ./plugin-engine). */
export interface DoorReplay {
  readonly door: Door;
  /** State as the engine keeps it for this door: `__provider` (dynamic) or wrapped secrets (plugin). */
  readonly state: Map<string, StoredResource>;
  /** The class of the errors a call fails with: the provider's own answer over gRPC. */
  readonly CallError: new (...args: never[]) => Error;
  urn(name: string): string;
  up(name: string, program: Props): Promise<{ step: Step; replaces?: string[] }>;
  refresh(name: string): Promise<"kept" | "gone">;
  destroy(name: string): Promise<void>;
  /** The stored outputs, plain: secrets unwrapped, no `__provider`. */
  outputs(name: string): Props;
  readonly raw: RawCalls;
  /** How messages name a setting of this door's provider configuration. */
  settingName(field: SettingName): string;
  /** Everything the provider's process wrote to stdout and stderr so far. */
  output(): string;
  close(): Promise<void>;
}

/** Either door's replay; `door` tells which, and narrows to its own fields. */
export type DoorEngine = DynamicDoor | PluginDoor;

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  config?: DoorConfig;
  /** Where the process runs (default: the repository root, a Pulumi project). */
  cwd?: string;
}

/** Starts `door`'s provider process as the engine does, and configures it with `config`. */
export function startEngine(door: Door, options: StartOptions = {}): Promise<DoorEngine> {
  return door === "dynamic" ? DynamicDoor.start(options) : PluginDoor.start(options);
}

/**
 * How messages name a setting of `door`'s provider configuration: the dynamic resource's stack
 * config (`stack config octopusdeploy:address`), the plugin's own (`octopusapikey:address`).
 */
export function nameOfSetting(door: Door, field: SettingName): string {
  return door === "plugin" ? settingName(field) : `stack config ${stackConfigKey(field) ?? field}`;
}

const PROVIDER_TEXT = "__provider";

function withoutProviderText(props: Props): Props {
  const { [PROVIDER_TEXT]: _text, ...rest } = props;
  return rest;
}

/** The dynamic resource through the real dynamic provider host. */
export class DynamicDoor implements DoorReplay {
  readonly door = "dynamic";
  readonly CallError = HostCallError;
  readonly raw: RawCalls;

  constructor(readonly engine: Engine) {
    const host = engine.host;
    const urn = (name: string) => engine.urn(name);
    // The engine sends the provider text with every bag; a bag given without it gets it here.
    const text = (props: Props): Props =>
      PROVIDER_TEXT in props ? props : { ...props, [PROVIDER_TEXT]: engine.providerText };
    this.raw = {
      check: async (name, olds, news) => {
        const olds_ = Object.keys(olds).length > 0 ? text(olds) : olds;
        const checked = await host.check(urn(name), olds_, text(news));
        return { inputs: withoutProviderText(checked.inputs), failures: checked.failures };
      },
      diff: (name, id, olds, news) => host.diff(id, urn(name), text(olds), text(news)),
      create: async (name, inputs) => {
        const created = await host.create(urn(name), text(inputs));
        return { id: created.id, properties: withoutProviderText(created.properties) };
      },
      read: async (name, id, properties, inputs) => {
        const read = await host.read(id, urn(name), text(properties), inputs && text(inputs));
        const result = { id: read.id, properties: withoutProviderText(read.properties) };
        return read.inputs ? { ...result, inputs: withoutProviderText(read.inputs) } : result;
      },
      update: async (name, id, olds, news) => {
        const updated = await host.update(id, urn(name), text(olds), text(news));
        return { properties: withoutProviderText(updated.properties) };
      },
      delete: (name, id, properties) => host.delete(id, urn(name), text(properties)),
    };
  }

  /** Stack config `octopusdeploy:<setting>`; the other settings have no stack config here. */
  static async start(options: StartOptions): Promise<DynamicDoor> {
    const config: Record<string, string> = {};
    for (const [field, value] of Object.entries(options.config ?? {})) {
      const key = stackConfigKey(field as SettingName);
      if (!key) throw new Error(`the dynamic resource reads no stack config for ${field}`);
      if (value !== undefined) config[key] = String(value);
    }
    const cwd = options.cwd ?? repoRoot;
    return new DynamicDoor(await Engine.start({ env: options.env, config, cwd }));
  }

  get state(): Map<string, StoredResource> {
    return this.engine.state;
  }
  get providerText(): string {
    return this.engine.providerText;
  }
  urn(name: string): string {
    return this.engine.urn(name);
  }
  up(name: string, program: Props): Promise<{ step: Step; replaces?: string[] }> {
    return this.engine.up(name, program);
  }
  refresh(name: string): Promise<"kept" | "gone"> {
    return this.engine.refresh(name);
  }
  destroy(name: string): Promise<void> {
    return this.engine.destroy(name);
  }
  outputs(name: string): Props {
    return withoutProviderText(this.engine.outputs(name));
  }
  settingName(field: SettingName): string {
    return nameOfSetting("dynamic", field);
  }
  output(): string {
    return this.engine.host.output();
  }
  close(): Promise<void> {
    return this.engine.close();
  }
}

function stackConfigKey(field: SettingName): string | undefined {
  return (CONNECTION_SETTINGS[field] as { stackConfig?: string } | undefined)?.stackConfig;
}

/** The secret properties of the resource: the engine keeps and sends them wrapped. */
const SECRETS = [...Object.entries(INPUTS), ...Object.entries(OUTPUTS)]
  .filter(([, field]) => "secret" in field && field.secret)
  .map(([name]) => name);

/** A bag as the engine sends it to a plugin that accepts secrets: secret properties wrapped. */
function wrapped(props: Props): Props {
  const out = { ...props };
  for (const name of SECRETS) if (name in out) out[name] = secret(out[name]);
  return out;
}
const plain = (props: Props): Props => reveal(props) as Props;

/** The resource plugin, launched as the engine launches it. */
export class PluginDoor implements DoorReplay {
  readonly door = "plugin";
  readonly CallError = PluginCallError;
  readonly engine: PluginEngine;
  readonly raw: RawCalls;

  constructor(readonly plugin: Plugin) {
    this.engine = new PluginEngine(plugin);
    const urn = (name: string) => this.engine.urn(name);
    this.raw = {
      check: async (name, olds, news) => {
        const checked = await plugin.check(urn(name), wrapped(olds), news);
        return { inputs: plain(checked.inputs), failures: checked.failures };
      },
      diff: async (name, id, olds, news, oldInputs) => {
        const oldWire = oldInputs && wrapped(oldInputs);
        const diff = await plugin.diff(id, urn(name), wrapped(olds), wrapped(news), oldWire);
        const { changes, replaces, deleteBeforeReplace } = diff;
        return { changes, replaces, deleteBeforeReplace };
      },
      create: async (name, inputs) => {
        const created = await plugin.create(urn(name), wrapped(inputs));
        return { id: created.id, properties: plain(created.properties) };
      },
      read: async (name, id, properties, inputs) => {
        const read = await plugin.read(
          id,
          urn(name),
          wrapped(properties),
          inputs && wrapped(inputs),
        );
        const result = { id: read.id, properties: plain(read.properties) };
        return read.inputs ? { ...result, inputs: plain(read.inputs) } : result;
      },
      update: async (name, id, olds, news, oldInputs) => {
        const oldWire = oldInputs && wrapped(oldInputs);
        const updated = await plugin.update(id, urn(name), wrapped(olds), wrapped(news), oldWire);
        return { properties: plain(updated.properties) };
      },
      delete: (name, id, properties) => plugin.delete(id, urn(name), wrapped(properties)),
    };
  }

  /**
   * As the engine starts a provider: CheckConfig on the settings (plain), refusing what it
   * refuses, then Configure with `args` by name (secrets wrapped) and the same settings as
   * `octopusapikey:config:<setting>` variables.
   */
  static async start(options: StartOptions): Promise<PluginDoor> {
    const settings: Props = {};
    const args: Props = {};
    const variables: Record<string, string> = {};
    for (const [field, value] of Object.entries(options.config ?? {})) {
      if (value === undefined) continue;
      const declared = CONNECTION_SETTINGS[field as SettingName] as { secret?: boolean };
      settings[field] = value;
      args[field] = declared?.secret ? secret(value) : value;
      variables[`octopusapikey:config:${field}`] = String(value);
    }
    const plugin = await launchPlugin({ env: options.env, cwd: options.cwd ?? repoRoot });
    try {
      const { failures } = await plugin.checkConfig({}, settings);
      if (failures.length > 0) {
        const text = failures.map((f) => `${f.property}: ${f.reason}`).join("; ");
        throw new Error(`check of the provider configuration failed: ${text}`);
      }
      await plugin.configure(args, variables);
    } catch (error) {
      await plugin.close();
      throw error;
    }
    return new PluginDoor(plugin);
  }

  get state(): Map<string, StoredResource> {
    return this.engine.state;
  }
  urn(name: string): string {
    return this.engine.urn(name);
  }
  up(name: string, program: Props): Promise<{ step: Step; replaces?: string[] }> {
    return this.engine.up(name, program);
  }
  refresh(name: string): Promise<"kept" | "gone"> {
    return this.engine.refresh(name);
  }
  destroy(name: string): Promise<void> {
    return this.engine.destroy(name);
  }
  outputs(name: string): Props {
    const stored = this.engine.state.get(name);
    if (!stored) throw new Error(`no resource ${name} in state`);
    return plain(stored.outputs);
  }
  settingName(field: SettingName): string {
    return nameOfSetting("plugin", field);
  }
  output(): string {
    return this.plugin.output();
  }
  close(): Promise<void> {
    return this.plugin.close();
  }
}
