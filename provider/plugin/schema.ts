import type { Declaration, Field, FieldType } from "../core/fields";

/**
 * The plugin's package schema (what GetSchema answers, and `schema.json`), built from the one
 * declaration of every input, output and connection setting: nothing here names a property.
 *
 * Choices the declaration cannot make:
 * - A change that replaces the key is `willReplaceOnChanges` (documentation for the SDKs), never
 *   `replaceOnChanges`: the plugin's Diff decides replacements (spelling, case, rotation windows),
 *   which the engine's own comparison would get wrong.
 * - Settings name their environment variables in their description, never as `defaultInfo`:
 *   generated SDKs would read `defaultInfo` variables in the program and store the credential in
 *   the provider's state; the plugin reads the environment itself.
 * - A string with `values` becomes an enum type named after its property (`AccessLevel`).
 * - `stringOrNumber` is a `oneOf` on inputs and object types, and a string as provider
 *   configuration (stack config values are strings; the plugin reads both).
 */

type Fields = Readonly<Record<string, Field>>;

export const PACKAGE = "octopusapikey";
export const RESOURCE_TOKEN = `${PACKAGE}:index:ApiKey`;
/** The dynamic resource's type: a stack that used it adopts its resources through this alias. */
export const DYNAMIC_TYPE = "pulumi-nodejs:dynamic/octopusdeploy:ApiKey";
export const functionToken = (name: string): string => `${PACKAGE}:index:${name}`;

type Spec = Record<string, unknown>;

const pascal = (name: string): string => name[0].toUpperCase() + name.slice(1);
const typeToken = (name: string): string => `${PACKAGE}:index:${pascal(name)}`;
const ref = (name: string): Spec => ({ $ref: `#/types/${typeToken(name)}` });

/** Builds the schema: `declaration` says what, `version` is the package's version. */
export function buildSchema(declaration: Declaration, version: string): Spec {
  const types: Spec = {};
  const objects = { connection: declaration.config, ...declaration.types };

  const typeSpec = (name: string, type: FieldType, asConfig: boolean): Spec => {
    switch (type.kind) {
      case "string":
        if (!type.values) return { type: "string" };
        types[typeToken(name)] ??= {
          type: "string",
          enum: type.values.map((value) => ({ value, name: value })),
        };
        return { type: "string", ...ref(name) };
      case "boolean":
      case "number":
        return { type: type.kind };
      case "stringOrNumber":
        return asConfig ? { type: "string" } : { oneOf: [{ type: "string" }, { type: "number" }] };
      case "stringMap":
        return { type: "object", additionalProperties: { type: "string" } };
      case "list":
        return { type: "array", items: typeSpec(name, type.of, asConfig) };
      case "object": {
        const fields = (objects as Record<string, Fields | undefined>)[type.ref];
        if (!fields) throw new Error(`the declaration has no object type "${type.ref}"`);
        if (!types[typeToken(type.ref)]) {
          types[typeToken(type.ref)] = {}; // a placeholder first: a type may refer to itself
          types[typeToken(type.ref)] = { type: "object", ...objectSpec(fields, false) };
        }
        return ref(type.ref);
      }
    }
  };

  const propertySpec = (name: string, field: Field, asConfig: boolean): Spec => ({
    ...typeSpec(name, field.type, asConfig),
    description:
      "env" in field && Array.isArray(field.env) && field.env.length > 0
        ? `${field.description} Environment variable: ${field.env.map((e) => `\`${e}\``).join(" or ")}.`
        : field.description,
    ...(field.secret ? { secret: true } : {}),
    ...(field.replaces ? { willReplaceOnChanges: true } : {}),
  });

  const properties = (fields: Fields, asConfig: boolean): Spec =>
    Object.fromEntries(
      Object.entries(fields).map(([name, field]) => [name, propertySpec(name, field, asConfig)]),
    );
  const required = (fields: Fields, test: (field: Field) => boolean): string[] =>
    Object.entries(fields)
      .filter(([, field]) => test(field))
      .map(([name]) => name);
  /** Outputs are always present unless nullable or optional. */
  const present = (field: Field) => !field.optional && !field.nullable;
  const objectSpec = (fields: Fields, asOutputs: boolean): Spec => ({
    properties: properties(fields, false),
    required: required(fields, asOutputs ? present : (field) => field.required === true),
  });

  /**
   * C# cannot name a member after its class (CS0542): the resource `ApiKey`'s output `apiKey`
   * becomes `ApiKeyValue` there.
   */
  const resourceName = RESOURCE_TOKEN.split(":")[2];
  const csharpSafe = (props: Spec): Spec =>
    Object.fromEntries(
      Object.entries(props).map(([name, spec]) => [
        name,
        pascal(name) === resourceName
          ? { ...(spec as Spec), language: { csharp: { name: `${resourceName}Value` } } }
          : spec,
      ]),
    );

  const resource = {
    description:
      'An Octopus Deploy API key: created by `pulumi up` (its secret is the output `apiKey`), replaced when its purpose, owner, expiry, access level, actor type or server changes (the new key first, then the old one is revoked), rotated before it expires with `rotateBefore` (the old key left live until it expires with `onRotation: "expire"`), and revoked by `pulumi destroy`. Import an existing key with the id `Users-N/apikeys-…` (or the key id alone when it belongs to the caller or a service account).',
    inputProperties: csharpSafe(properties(declaration.inputs, false)),
    requiredInputs: required(declaration.inputs, (field) => field.required === true),
    properties: csharpSafe(properties(declaration.outputs, false)),
    required: required(declaration.outputs, present),
    aliases: [{ type: DYNAMIC_TYPE }],
  };

  const functions = Object.fromEntries(
    Object.entries(declaration.functions ?? {}).map(([name, fn]) => [
      functionToken(name),
      {
        description: fn.description,
        inputs: { type: "object", ...objectSpec(fn.inputs, false) },
        outputs: { type: "object", ...objectSpec(fn.outputs, true) },
      },
    ]),
  );

  // Built before `types` is read, so that every type the properties name is in it.
  const config = {
    variables: properties(declaration.config, true),
  };
  const provider = {
    description: `The provider for ${PACKAGE}: where to reach Octopus and how to authenticate. Each setting falls back to its environment variable; a key's own \`connection\` input wins over both.`,
    inputProperties: properties(declaration.config, true),
  };

  return {
    name: PACKAGE,
    displayName: "Octopus Deploy API key",
    version,
    description:
      "Octopus Deploy API keys as Pulumi resources: create, rotate, import and revoke them, and list a user's keys.",
    keywords: ["pulumi", "octopus", "octopus-deploy", "api-key", "category/utility", "kind/native"],
    license: "Apache-2.0",
    meta: { moduleFormat: "(.*)" },
    config,
    provider,
    resources: { [RESOURCE_TOKEN]: resource },
    functions,
    types,
    language: {
      nodejs: {
        packageName: "pulumi-octopusapikey",
        packageDescription: "Octopus Deploy API keys",
      },
      python: { packageName: "pulumi_octopusapikey" },
      csharp: { rootNamespace: "Pulumi", namespaces: { [PACKAGE]: "OctopusApiKey" } },
      go: {
        importBasePath: "pulumi-octopus-apikey/sdk/go/octopusapikey",
        generateResourceContainerTypes: true,
      },
    },
  };
}
