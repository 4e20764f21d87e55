// `npm run build`: compiles everything to dist/ incrementally with `tsc -b`, which skips the work
// when nothing changed (about 1 s instead of a full build). `--package` builds only the package
// (tsconfig.package.json: provider/ → dist/provider), for `prepare`, which `npm ci`, `npm pack`
// and git installs run. Plain JavaScript because it runs before anything is compiled.
//
//   node scripts/build.mjs [--package | --prune-only]
//
// An incremental build never deletes: the output of a source file that was deleted or renamed
// would stay in dist/ and still run (Jest runs every dist/tests/**/*.test.js). So first remove
// every compiled file whose TypeScript source is gone. Deleting dist/ also deletes tsc's build
// info (dist/*.tsbuildinfo), so a deleted dist/ is always rebuilt in full.
import { spawnSync } from "node:child_process";
import console from "node:console";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = path.join(root, "dist");
const compiled = /(\.d\.ts\.map|\.d\.ts|\.js\.map|\.js)$/;

/** Removes dist/<dir>/<name>.{js,d.ts,…} whose <dir>/<name>.ts no longer exists; returns how many. */
function removeStale(dir) {
  let removed = 0;
  if (!fs.existsSync(dir)) return removed;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      removed += removeStale(file);
      if (fs.readdirSync(file).length === 0) fs.rmdirSync(file);
    } else if (compiled.test(entry.name)) {
      const source = path.join(root, path.relative(dist, file)).replace(compiled, ".ts");
      if (!fs.existsSync(source)) {
        fs.rmSync(file);
        removed += 1;
      }
    }
  }
  return removed;
}

const removed = removeStale(dist);
if (removed > 0) console.log(`build: removed ${removed} stale file(s) from dist/`);
// `--prune-only`: only the removal above (the tests use it while dist/ is in use).
if (process.argv.includes("--prune-only")) process.exit(0);

const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const config = process.argv.includes("--package") ? "tsconfig.package.json" : "tsconfig.json";
const result = spawnSync(process.execPath, [tsc, "-b", path.join(root, config)], {
  cwd: root,
  stdio: "inherit",
});
process.exit(result.status ?? 1);
