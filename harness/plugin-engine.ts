import { type Plugin, pluginUrn } from "./plugin";

type Props = Record<string, unknown>;

export interface PluginResource {
  id: string;
  /** Stored inputs and outputs as the engine keeps them: secrets wrapped. */
  inputs: Props;
  outputs: Props;
}

export type PluginStep = "create" | "same" | "update" | "replace";

/**
 * What the Pulumi engine does with `ApiKey` resources through the plugin, reduced to its calls:
 * `up` runs Check, then Create, or Diff followed by Update or a create-before-delete
 * replacement; `refresh` runs Read; `destroy` runs Delete; `import` runs Read with an id only,
 * then Check of the inputs it returned (as `pulumi import` does). State is kept here, with
 * secrets wrapped as the engine sends them to a plugin that accepts secrets.
 */
export class PluginEngine {
  readonly state = new Map<string, PluginResource>();

  constructor(readonly plugin: Plugin) {}

  urn(name: string): string {
    return pluginUrn(name);
  }

  async up(name: string, program: Props): Promise<{ step: PluginStep; replaces?: string[] }> {
    const old = this.state.get(name);
    const checked = await this.plugin.check(this.urn(name), old?.inputs ?? {}, program);
    if (checked.failures.length > 0) {
      const text = checked.failures.map((f) => `${f.property}: ${f.reason}`).join("; ");
      throw new Error(`check failed: ${text}`);
    }
    if (!old) {
      const created = await this.plugin.create(this.urn(name), checked.inputs);
      this.state.set(name, { id: created.id, inputs: checked.inputs, outputs: created.properties });
      return { step: "create" };
    }
    const diff = await this.plugin.diff(
      old.id,
      this.urn(name),
      old.outputs,
      checked.inputs,
      old.inputs,
    );
    if (diff.changes === "none") {
      this.state.set(name, { ...old, inputs: checked.inputs });
      return { step: "same" };
    }
    if (diff.replaces.length === 0) {
      const updated = await this.plugin.update(
        old.id,
        this.urn(name),
        old.outputs,
        checked.inputs,
        old.inputs,
      );
      this.state.set(name, { id: old.id, inputs: checked.inputs, outputs: updated.properties });
      return { step: "update" };
    }
    const created = await this.plugin.create(this.urn(name), checked.inputs);
    this.state.set(name, { id: created.id, inputs: checked.inputs, outputs: created.properties });
    await this.plugin.delete(old.id, this.urn(name), old.outputs);
    return { step: "replace", replaces: diff.replaces };
  }

  async refresh(name: string): Promise<"kept" | "gone"> {
    const old = this.required(name);
    const read = await this.plugin.read(old.id, this.urn(name), old.outputs, old.inputs);
    if (!read.id) {
      this.state.delete(name);
      return "gone";
    }
    this.state.set(name, {
      id: read.id,
      inputs: read.inputs ?? old.inputs,
      outputs: read.properties,
    });
    return "kept";
  }

  /** `pulumi import octopusapikey:index:ApiKey <name> <id>`. */
  async import(name: string, importId: string): Promise<PluginResource> {
    const read = await this.plugin.read(importId, this.urn(name));
    if (!read.id || !read.inputs) throw new Error(`import of ${importId} found nothing`);
    const checked = await this.plugin.check(this.urn(name), read.inputs, read.inputs);
    if (checked.failures.length > 0) {
      throw new Error(
        `the imported inputs fail their own check: ${JSON.stringify(checked.failures)}`,
      );
    }
    const stored = { id: read.id, inputs: checked.inputs, outputs: read.properties };
    this.state.set(name, stored);
    return stored;
  }

  async destroy(name: string): Promise<void> {
    const old = this.required(name);
    await this.plugin.delete(old.id, this.urn(name), old.outputs);
    this.state.delete(name);
  }

  private required(name: string): PluginResource {
    const stored = this.state.get(name);
    if (!stored) throw new Error(`no resource ${name} in state`);
    return stored;
  }
}
