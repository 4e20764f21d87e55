import type { OctopusApiKeyResource } from "../octopus/client";
import { ApiKeyInputs, ApiKeyOutputs, Field, INPUTS, OUTPUTS, PlainOutputName } from "./fields";

/**
 * Values Octopus keeps as given: the inputs and outputs the declaration (./fields) gives an
 * `octopus` field name. An input is sent under that name on create, kept in state as asked, and
 * replaces the key when it changes; an output is what the key's answer reports under that name.
 * A new value of that kind is one declaration: create, state, diff, refresh and import take it
 * from here.
 */

type Fields = Readonly<Record<string, Field>>;

/** Each declaration's plain fields as `[name, Octopus name]`, worked out once per declaration. */
const plainFieldsOf = new WeakMap<Fields, ReadonlyArray<readonly [string, string]>>();

function named(fields: Fields): ReadonlyArray<readonly [string, string]> {
  let found = plainFieldsOf.get(fields);
  if (!found) {
    found = Object.entries(fields).flatMap(([name, field]) =>
      field.octopus === undefined ? [] : [[name, field.octopus] as const],
    );
    plainFieldsOf.set(fields, found);
  }
  return found;
}

/** The key fields the client keeps from an answer, for the outputs that report them. */
export const REPORTED_KEY_FIELDS: readonly string[] = named(OUTPUTS).map(([, octopus]) => octopus);

/** The names of the plain inputs. */
export function plainInputNames(fields: Fields = INPUTS): string[] {
  return named(fields).map(([name]) => name);
}

/** What a create sends besides its own fields: each plain input given, under its Octopus name. */
export function sentFields(inputs: ApiKeyInputs, fields: Fields = INPUTS): Record<string, string> {
  const sent: Record<string, string> = {};
  for (const [name, octopus] of named(fields)) {
    const value = (inputs as Record<string, unknown>)[name];
    if (typeof value === "string") sent[octopus] = value;
  }
  return sent;
}

/** The plain inputs as asked, for state (null when there are none). */
export function requestedOf(
  inputs: ApiKeyInputs,
  fields: Fields = INPUTS,
): Record<string, string> | null {
  const requested: Record<string, string> = {};
  for (const [name] of named(fields)) {
    const value = (inputs as Record<string, unknown>)[name];
    if (typeof value === "string") requested[name] = value;
  }
  return Object.keys(requested).length > 0 ? requested : null;
}

/** The plain inputs whose value differs from the one the key was made with. */
export function changedPlainInputs(
  requested: Record<string, string> | null,
  inputs: ApiKeyInputs,
  fields: Fields = INPUTS,
): string[] {
  return named(fields)
    .map(([name]) => name)
    .filter(
      (name) => ((inputs as Record<string, unknown>)[name] ?? null) !== (requested?.[name] ?? null),
    );
}

/**
 * The plain inputs a key's answer shows it was made with (an imported key's): each plain input
 * whose Octopus field the answer reports.
 */
export function reportedInputs(
  key: OctopusApiKeyResource,
  fields: Fields = INPUTS,
): Record<string, string> {
  const inputs: Record<string, string> = {};
  for (const [name, octopus] of named(fields)) {
    const value = key.Reported?.[octopus];
    if (value !== undefined) inputs[name] = value;
  }
  return inputs;
}

/** The plain outputs stored in `props` (null for any missing: state written before it). */
export function storedPlainOutputs(
  props: Record<string, unknown>,
  fields: Fields = OUTPUTS,
): Pick<ApiKeyOutputs, PlainOutputName> {
  const outputs: Record<string, string | null> = {};
  for (const [name] of named(fields)) {
    outputs[name] = typeof props[name] === "string" ? props[name] : null;
  }
  return outputs as Pick<ApiKeyOutputs, PlainOutputName>;
}

/** The plain outputs a key's answer reports (null for what it does not). */
export function reportedOf(
  key: OctopusApiKeyResource,
  fields: Fields = OUTPUTS,
): Pick<ApiKeyOutputs, PlainOutputName> {
  const reported: Record<string, string | null> = {};
  for (const [name, octopus] of named(fields)) reported[name] = key.Reported?.[octopus] ?? null;
  return reported as Pick<ApiKeyOutputs, PlainOutputName>;
}
