import { CONNECTION_SETTINGS, Field, FieldType, INPUTS, OUTPUTS } from "../provider/core/fields";
import { ERROR_CODES } from "../provider/octopus/errors";
import { PACKAGE } from "../provider/plugin/schema";
import { inputNote } from "./dynamic-args";

/**
 * The README's tables of inputs, outputs, connection settings and error codes, written from the
 * declarations, between `<!-- generated: NAME -->` and `<!-- end generated -->` markers.
 */

function typeName(type: FieldType): string {
  switch (type.kind) {
    case "string":
      return type.values ? type.values.map((v) => `\`"${v}"\``).join(" or ") : "string";
    case "stringOrNumber":
      return "number or string";
    case "stringMap":
      return "map of strings";
    case "object":
      return "object";
    case "list":
      return `list of ${typeName(type.of)}`;
    default:
      return type.kind;
  }
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\s+/g, " ");

function table(header: string[], rows: string[][]): string {
  const lines = [header, header.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`);
  return lines.join("\n");
}

const TABLES: Record<string, () => string> = {
  inputs: () =>
    table(
      ["input", "type", "notes"],
      Object.entries(INPUTS as Record<string, Field>).map(([name, field]) => [
        `\`${name}\``,
        typeName(field.type),
        cell(inputNote(field) + (field.secret ? " Stored in state as a secret." : "")),
      ]),
    ),
  outputs: () =>
    table(
      ["output", "notes"],
      Object.entries(OUTPUTS as Record<string, Field>).map(([name, field]) => [
        `\`${name}\``,
        cell((field.secret ? "**Secret.** " : "") + field.description),
      ]),
    ),
  connection: () =>
    table(
      ["setting", "stack config (TypeScript)", "plugin config", "environment", "notes"],
      Object.entries(CONNECTION_SETTINGS).map(([name, setting]) => [
        `\`${name}\``,
        "stackConfig" in setting ? `\`${setting.stackConfig}\`` : "",
        `\`${PACKAGE}:${name}\``,
        setting.env.map((e) => `\`${e}\``).join(", "),
        cell(setting.description),
      ]),
    ),
  errors: () =>
    table(
      ["code", "what happened", "what to do"],
      Object.entries(ERROR_CODES).map(([code, { means, fix }]) => [
        `\`${code}\``,
        cell(means),
        cell(fix),
      ]),
    ),
};

/** `readme` with each generated table rewritten; throws for a marker naming no table. */
export function withTables(readme: string): string {
  return readme.replace(
    /(<!-- generated: (\w+) -->\n)[\s\S]*?(<!-- end generated -->)/g,
    (_all, open: string, name: string, close: string) => {
      const render = TABLES[name];
      if (!render) throw new Error(`README.md names no table "${name}"`);
      return `${open}\n${render()}\n\n${close}`;
    },
  );
}
