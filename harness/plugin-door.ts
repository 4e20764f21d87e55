/**
 * The resource plugin's door of ./doors: the PluginEngine (./plugin-engine) on the built plugin.
 * Its state keeps secrets wrapped, as the engine sends them to a plugin that accepts secrets;
 * the door's raw calls wrap the declared secret properties (`apiKey`, `connection`) likewise and
 * answer plain bags.
 */
import { CONNECTION_SETTINGS, INPUTS, OUTPUTS, SettingName } from "../provider/core/fields";
import { settingName } from "../provider/plugin/config";
import type { DoorReplay, RawCalls, StartOptions, Step } from "./doors";
import { repoRoot, StoredResource } from "./engine";
import { launchPlugin, Plugin, PluginCallError, reveal, secret } from "./plugin";
import { PluginEngine } from "./plugin-engine";

type Props = Record<string, unknown>;

/** The plugin's own configuration names a setting `octopusapikey:address`. */
export const pluginSettingName = (field: SettingName): string => settingName(field);

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
    return pluginSettingName(field);
  }
  output(): string {
    return this.plugin.output();
  }
  close(): Promise<void> {
    return this.plugin.close();
  }
}
