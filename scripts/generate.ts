/**
 * Rewrites the files derived from the declaration in provider/core/fields.ts:
 * provider/dynamic/args.ts (the dynamic resource's public types).
 *
 *   npm run generate            # writes them
 *   npm run generate -- --check # exits 1, naming each, when one is not current
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { generated } from "../codegen";

const root = path.resolve(__dirname, "..", "..");

async function main(argv: string[]): Promise<void> {
  const check = argv.includes("--check");
  const stale: string[] = [];
  for (const [file, text] of Object.entries(await generated(root))) {
    const target = path.join(root, file);
    const current = fs.existsSync(target) ? fs.readFileSync(target, "utf8") : undefined;
    if (current === text) continue;
    stale.push(file);
    if (!check) fs.writeFileSync(target, text);
  }
  if (check && stale.length > 0) {
    console.error(`not current (run npm run generate): ${stale.join(", ")}`);
    process.exit(1);
  }
  console.log(stale.length === 0 ? "generate: all current" : `generate: wrote ${stale.join(", ")}`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
