/**
 * The dynamic resource's door of ./doors: the dynamic Engine (./engine) on the real provider
 * host. Its state holds the provider text (`__provider`) in inputs and outputs, and plain values
 * (the host does not accept secrets); the door's plain bags leave the text out, and its raw calls
 * add it back, as the engine sends it with every bag.
 */
import { CONNECTION_SETTINGS, SettingName } from "../provider/core/fields";
import type { DoorReplay, RawCalls, StartOptions, Step } from "./doors";
import { Engine, repoRoot, StoredResource } from "./engine";
import { HostCallError } from "./host";

type Props = Record<string, unknown>;

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
    return dynamicSettingName(field);
  }
  output(): string {
    return this.engine.host.output();
  }
  close(): Promise<void> {
    return this.engine.close();
  }
}

/** The dynamic resource's stack config names a setting `stack config octopusdeploy:address`. */
export function dynamicSettingName(field: SettingName): string {
  return `stack config ${stackConfigKey(field) ?? field}`;
}

function stackConfigKey(field: SettingName): string | undefined {
  return (CONNECTION_SETTINGS[field] as { stackConfig?: string } | undefined)?.stackConfig;
}
