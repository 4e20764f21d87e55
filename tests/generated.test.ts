import * as fs from "node:fs";
import * as path from "node:path";
import { generated } from "../codegen";
import { repoRoot } from "../harness/engine";

// Files derived from the declaration (provider/core/fields.ts) are committed; each must be what
// `npm run generate` would write now, or a changed declaration would not reach them.

test("every generated file is current", async () => {
  const files = await generated(repoRoot);
  expect(Object.keys(files).length).toBeGreaterThan(0);
  for (const [file, text] of Object.entries(files)) {
    const committed = fs.readFileSync(path.join(repoRoot, file), "utf8");
    expect({ file, text: committed }).toEqual({ file, text });
  }
});
