import type { Problem } from "../core/connection/settings";
import { ApiKeyInputs, INPUT_NAMES, INPUTS, OUTPUT_NAMES, OUTPUTS } from "../core/fields";
import type { ApiKeyLifecycle } from "../core/lifecycle";
import { fromWire, toWire } from "./wire";

/**
 * The resource `octopusapikey:index:ApiKey` on the wire: what the engine sends is made plain for
 * the lifecycle (the same one the dynamic resource runs), and what it answers goes back with its
 * secrets marked. Besides that translation, this file holds what only a plugin does:
 * - import: Read with an id and no state (the core's `import`);
 * - adoption of the dynamic resource's state (type `pulumi-nodejs:dynamic/octopusdeploy:ApiKey`,
 *   moved here by an alias): its `__provider` is dropped from whatever the engine sends, and
 *   from the inputs a refresh returns; everything else is the same state.
 */

type Props = Record<string, unknown>;

/** The dynamic resource's serialized provider, stored in its inputs and outputs. */
const PROVIDER_TEXT = "__provider";
/** Stored as secrets: the key, and a `connection` input (it holds credentials). */
const SECRET_OUTPUTS = [
  ...OUTPUT_NAMES.filter((name) => "secret" in OUTPUTS[name]),
  ...INPUT_NAMES.filter((name) => "secret" in INPUTS[name]),
];

export interface DiffAnswer {
  changes: boolean;
  replaces: string[];
  deleteBeforeReplace: boolean;
  /** Top-level properties that change (inputs, old against new), and whether that replaces the key. */
  detailed: Record<string, { kind: "add" | "delete" | "update"; replaces: boolean }>;
}

function withoutProviderText(props: Props): Props {
  const { [PROVIDER_TEXT]: _dropped, ...rest } = props;
  return rest;
}

/** A plain property bag from the wire, without the dynamic resource's provider text. */
function plainProps(props: Props | undefined): { props: Props; secrets: Set<string> } {
  const { props: plain, secrets } = fromWire(props);
  return { props: withoutProviderText(plain), secrets };
}

const stable = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  ) ?? "undefined";

export class ApiKeyResource {
  constructor(private readonly lifecycle: ApiKeyLifecycle) {}

  async check(olds: Props, news: Props): Promise<{ inputs: Props; failures: Problem[] }> {
    const old = plainProps(olds);
    const given = plainProps(news);
    const { inputs, failures } = await this.lifecycle.check(old.props, given.props);
    return { inputs: toWire(inputs, new Set([...given.secrets, ...SECRET_OUTPUTS])), failures };
  }

  async diff(
    id: string,
    urn: string,
    olds: Props,
    news: Props,
    oldInputs: Props,
  ): Promise<DiffAnswer> {
    const stored = plainProps(olds).props;
    const inputs = plainProps(news).props;
    const result = await this.lifecycle.diff(id, stored, inputs as ApiKeyInputs, { urn });
    const replaces = result.replaces ?? [];
    const changes = result.changes === true;
    const detailed: DiffAnswer["detailed"] = {};
    if (changes) {
      const before = plainProps(oldInputs).props;
      for (const key of new Set([...Object.keys(before), ...Object.keys(inputs)])) {
        if (stable(before[key]) === stable(inputs[key])) continue;
        const kind = !(key in before) ? "add" : !(key in inputs) ? "delete" : "update";
        detailed[key] = { kind, replaces: false };
      }
      // A replacement may come from no input's change: a rotation falling due, a new server.
      for (const key of replaces)
        detailed[key] = { kind: detailed[key]?.kind ?? "update", replaces: true };
    }
    return {
      changes,
      replaces,
      deleteBeforeReplace: result.deleteBeforeReplace === true,
      detailed,
    };
  }

  async create(
    urn: string,
    news: Props,
    preview: boolean,
  ): Promise<{ id: string; properties: Props }> {
    const inputs = plainProps(news).props;
    // Never reached with this plugin's answer to Configure (no `supportsPreview`): the engine
    // shows the inputs as the outputs. Should an engine ask anyway, nothing is created.
    if (preview) return { id: "", properties: toWire(inputs, SECRET_OUTPUTS) };
    const result = await this.lifecycle.create(inputs as ApiKeyInputs, { urn });
    return { id: result.id, properties: outputs(result.outs) };
  }

  /**
   * Refresh, or import when there is no state: `properties` empty and only the id given. Returns
   * `id: ""` for a key that is gone. A refresh of adopted state also returns its stored inputs
   * without the provider text, so that it leaves the state.
   */
  async read(
    id: string,
    urn: string,
    properties: Props,
    storedInputs: Props | undefined,
  ): Promise<{ id: string; properties: Props; inputs?: Props }> {
    const stored = plainProps(properties).props;
    if (Object.keys(stored).length === 0) {
      const imported = await this.lifecycle.import(id);
      return { id: imported.id, properties: outputs(imported.outs), inputs: imported.inputs };
    }
    const result = await this.lifecycle.read(id, stored, { urn });
    if (!result.id || !result.props) return { id: "", properties: {} };
    const answer: { id: string; properties: Props; inputs?: Props } = {
      id: result.id,
      properties: outputs(result.props),
    };
    if (storedInputs && PROVIDER_TEXT in storedInputs) {
      answer.inputs = withoutProviderText(storedInputs);
    }
    return answer;
  }

  async update(id: string, olds: Props, news: Props): Promise<Props> {
    const inputs = plainProps(news).props as ApiKeyInputs;
    const result = await this.lifecycle.update(id, plainProps(olds).props, inputs);
    return outputs(result.outs);
  }

  async delete(id: string, urn: string, properties: Props): Promise<void> {
    await this.lifecycle.delete(id, plainProps(properties).props, { urn });
  }
}

/** Stored outputs for the wire: secrets marked; an imported key's empty secret left out. */
function outputs(props: Props): Props {
  const out = { ...props };
  if (out.apiKey === "") delete out.apiKey;
  return toWire(out, SECRET_OUTPUTS);
}
