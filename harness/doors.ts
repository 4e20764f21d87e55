/**
 * One engine replay for both front doors of the key's lifecycle: the dynamic resource (run by
 * Pulumi's dynamic provider host, ./engine) and the resource plugin (./plugin-engine). A test
 * written against {@link DoorEngine} runs unchanged on either door: property bags go in and come
 * out plain (secrets unwrapped, no `__provider`), provider configuration is stated once by setting
 * name and each door sends it as the engine would, and a message naming a setting asks the door
 * for that setting's name. What only one door does stays reachable through `door` and the
 * door-specific fields (`engine`, `plugin`, `state`).
 */
import type { SettingName } from "../provider/core/fields";
import type { StoredResource } from "./engine";
import { DynamicDoor, dynamicSettingName } from "./dynamic-door";
import { PluginDoor, pluginSettingName } from "./plugin-door";

export { DynamicDoor } from "./dynamic-door";
export { PluginDoor } from "./plugin-door";

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
  return door === "plugin" ? pluginSettingName(field) : dynamicSettingName(field);
}
