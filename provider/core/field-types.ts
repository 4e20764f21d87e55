/**
 * The shape of the declaration in ./fields, and the TypeScript types derived from it.
 */

/** How a value is typed, in TypeScript and in the plugin's schema. */
export type FieldType =
  | { kind: "string"; values?: readonly string[] }
  | { kind: "boolean" }
  | { kind: "number" }
  | { kind: "stringOrNumber" }
  | { kind: "stringMap" }
  | { kind: "object"; ref: string }
  | { kind: "list"; of: FieldType };

export interface Field {
  type: FieldType;
  /** One or two sentences, Markdown: the JSDoc, the README and the schema all show it. */
  description: string;
  /** An input the resource cannot do without. */
  required?: boolean;
  /** Encrypted in state and shown as `[secret]`. */
  secret?: boolean;
  /** A change of this input replaces the key (new key first, then the old one is revoked). */
  replaces?: boolean;
  /** An output that is `null` when there is nothing to report. */
  nullable?: boolean;
  /** An output that may be absent (an imported key has no secret). */
  optional?: boolean;
  /**
   * The key field Octopus keeps this value in, as given (`Description`): an input with it is
   * sent so on create and a change of it replaces the key; an output with it is what the key's
   * answer reports (text, or null). Such a field needs nothing else: ./plain-fields does the rest.
   */
  octopus?: string;
}

/** A connection setting: also read from these environment variables, first set wins. */
export interface SettingField extends Field {
  env: readonly string[];
  /** Also read from the dynamic resource's stack config under this key (shared with the `octopusdeploy` package). */
  stackConfig?: string;
}

/** A function (a plugin's Invoke): what it takes and what it answers. */
export interface FunctionDeclaration {
  description: string;
  inputs: Readonly<Record<string, Field>>;
  outputs: Readonly<Record<string, Field>>;
}

/** Everything a front door is built from: the resource, its settings, and its functions. */
export interface Declaration {
  inputs: Readonly<Record<string, Field>>;
  outputs: Readonly<Record<string, Field>>;
  config: Readonly<Record<string, SettingField>>;
  /** Object types by the `ref` that names them. */
  types: Readonly<Record<string, Readonly<Record<string, Field>>>>;
  functions: Readonly<Record<string, FunctionDeclaration>>;
}

/** The TypeScript type of a value of `T`. */
export type ValueOf<T extends FieldType> = T extends {
  kind: "string";
  values: readonly (infer V)[];
}
  ? V
  : T extends { kind: "string" }
    ? string
    : T extends { kind: "boolean" }
      ? boolean
      : T extends { kind: "number" }
        ? number
        : T extends { kind: "stringOrNumber" }
          ? string | number
          : T extends { kind: "stringMap" }
            ? Record<string, string>
            : T extends { kind: "object"; ref: "connection" }
              ? Partial<Record<string, unknown>>
              : never;

type Spec = Record<string, Field>;
type RequiredKeys<S extends Spec> = {
  [K in keyof S]: S[K] extends { required: true } ? K : never;
}[keyof S];

/** The inputs of `S` as plain values: required ones required, the rest optional. */
export type InputValues<S extends Spec> = {
  -readonly [K in RequiredKeys<S>]: ValueOf<S[K]["type"]>;
} & { -readonly [K in Exclude<keyof S, RequiredKeys<S>>]?: ValueOf<S[K]["type"]> };

/** The outputs of `S` as plain values: nullable ones may be null. */
export type OutputValues<S extends Spec> = {
  -readonly [K in keyof S]: S[K] extends { nullable: true }
    ? ValueOf<S[K]["type"]> | null
    : ValueOf<S[K]["type"]>;
};
