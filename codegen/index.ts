import * as fs from "node:fs";
import * as path from "node:path";
import { DECLARATION } from "../provider/core/fields";
import { buildSchema } from "../provider/plugin/schema";
import { renderDynamicArgs } from "./dynamic-args";
import { withTables } from "./readme-tables";

/**
 * Every file derived from the declaration (provider/core/fields.ts), by path from the repository
 * root, with the text it must have: rendered, then formatted as the repository's Prettier
 * settings format it.
 */
export async function generated(root: string): Promise<Record<string, string>> {
  const prettier = await import("prettier");
  const { version } = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
    version: string;
  };
  const files: Record<string, string> = {
    "provider/dynamic/args.ts": renderDynamicArgs(),
    "schema.json": `${JSON.stringify(buildSchema(DECLARATION, version), null, 2)}\n`,
    "README.md": withTables(fs.readFileSync(path.join(root, "README.md"), "utf8")),
    "docs/errors.md": withTables(fs.readFileSync(path.join(root, "docs/errors.md"), "utf8")),
  };
  for (const [file, text] of Object.entries(files)) {
    const filepath = path.join(root, file);
    const options = (await prettier.resolveConfig(filepath)) ?? {};
    files[file] = await prettier.format(text, { ...options, filepath });
  }
  return files;
}
