import * as fs from "node:fs";
import * as path from "node:path";
import { load } from "js-yaml";
import { repoRoot } from "../harness/engine";
import { inputProblems } from "../provider/core/check";
import { argumentSource } from "../provider/core/connection/sources";

// The YAML example (examples/yaml-key) against the plugin's schema: no Pulumi CLI runs here, so
// this checks what the CLI would refuse or the plugin would fail on — its package source, the
// resource type, each property's name and allowed value, the required inputs, the function and
// its arguments, and every output it reads — and that the key's inputs pass the input check.

type Spec = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const dir = path.join(repoRoot, "examples", "yaml-key");
const program = load(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) as Spec;
const schema = JSON.parse(fs.readFileSync(path.join(repoRoot, "schema.json"), "utf8")) as Spec;

/** `pkg:Name` is YAML's shorthand for `pkg:index:Name`. */
const token = (type: string) =>
  type.split(":").length === 2 ? type.replace(":", ":index:") : type;

test("its package is this repository, a Node.js source plugin", () => {
  expect(program.runtime).toBe("yaml");
  const source = path.resolve(dir, program.packages[schema.name]);
  expect(source).toBe(repoRoot);
  expect(fs.readFileSync(path.join(source, "PulumiPlugin.yaml"), "utf8")).toMatch(/nodejs/);
});

test("each resource is a type of the schema, with its properties, required inputs and values", () => {
  const resources = Object.entries(program.resources as Spec);
  expect(resources.length).toBeGreaterThan(0);
  for (const [, resource] of resources) {
    const spec = schema.resources[token(resource.type)];
    expect(spec).toBeDefined();
    const given = Object.keys(resource.properties);
    expect(given.filter((name) => !(name in spec.inputProperties))).toEqual([]);
    expect(spec.requiredInputs.filter((name: string) => !given.includes(name))).toEqual([]);
    for (const [name, value] of Object.entries(resource.properties as Spec)) {
      const ref = spec.inputProperties[name].$ref as string | undefined;
      if (ref) {
        const allowed = schema.types[ref.replace("#/types/", "")].enum.map((e: Spec) => e.value);
        expect(allowed).toContain(value);
      }
    }
    const connection = { address: "https://octopus.example.com", apiKey: "API-EXAMPLEEXAMPLE" };
    expect(inputProblems(resource.properties, {}, [argumentSource(connection)])).toEqual([]);
  }
});

test("each function it invokes is the schema's, with its arguments", () => {
  for (const variable of Object.values(program.variables as Spec)) {
    const { function: fn, arguments: args } = variable["fn::invoke"];
    const spec = schema.functions[token(fn)];
    expect(spec).toBeDefined();
    expect(Object.keys(args).filter((name) => !(name in spec.inputs.properties))).toEqual([]);
  }
});

test("every output reads a property the schema declares", () => {
  const outputs = Object.values(program.outputs as Record<string, string>);
  expect(outputs.length).toBeGreaterThan(0);
  for (const expression of outputs) {
    const [, name, property] = /^\$\{(\w+)\.(\w+)\}$/.exec(expression) ?? [];
    const resource = program.resources[name];
    const declared = resource
      ? schema.resources[token(resource.type)].properties
      : schema.functions[token(program.variables[name]["fn::invoke"].function)].outputs.properties;
    expect({ expression, declared: property in declared }).toEqual({ expression, declared: true });
  }
});
