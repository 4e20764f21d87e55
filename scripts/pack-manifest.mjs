// The package.json that goes into the tarball: the repository's, without what only development
// needs. `npm pack` and `npm publish` run `prepack` before they list and read the files to pack,
// and `postpack` after the tarball is written, so between the two package.json on disk is the
// packed one:
//
//   node scripts/pack-manifest.mjs strip     (prepack: keeps the original in package.json.before-pack)
//   node scripts/pack-manifest.mjs restore   (postpack: puts the original back, byte for byte)
//
// Left out of the packed manifest:
// - `devDependencies`, among them the self-reference `"pulumi-octopus-apikey": "file:"`, which
//   exists so that a provider host started in this repository can require the package by name;
// - every script but preinstall/install/postinstall (there are none today): `prepare` above all.
//   npm 11 counts `prepare` as an install script for a package installed from a tarball, a
//   folder or git, lists it as "not yet covered by allowScripts" on every install, and
//   `--strict-allow-scripts` refuses the install. In a tarball it could only fail anyway: the
//   build scripts it names are not packed.
//
// Plain JavaScript because it runs before anything is compiled. A pack that fails between the
// two steps leaves package.json stripped and package.json.before-pack beside it (both show in
// `git status`); `strip` refuses to run again until `restore` has put the original back.
import console from "node:console";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const manifestPath = path.join(root, "package.json");
const backupPath = path.join(root, "package.json.before-pack");
const INSTALL_SCRIPTS = new Set(["preinstall", "install", "postinstall"]);

/** The manifest as packed: every field kept in its order, but devDependencies and dev-only scripts. */
function packed(manifest) {
  const result = {};
  for (const [field, value] of Object.entries(manifest)) {
    if (field === "devDependencies") continue;
    if (field === "scripts") {
      const kept = Object.entries(value).filter(([name]) => INSTALL_SCRIPTS.has(name));
      if (kept.length > 0) result.scripts = Object.fromEntries(kept);
      continue;
    }
    result[field] = value;
  }
  return result;
}

const mode = process.argv[2];
if (mode === "strip") {
  if (fs.existsSync(backupPath)) {
    console.error(
      `pack-manifest: ${path.basename(backupPath)} exists: an earlier pack did not finish. ` +
        "Run `node scripts/pack-manifest.mjs restore` (or check `git diff package.json`), then pack again.",
    );
    process.exit(1);
  }
  const text = fs.readFileSync(manifestPath, "utf8");
  fs.writeFileSync(backupPath, text);
  fs.writeFileSync(manifestPath, `${JSON.stringify(packed(JSON.parse(text)), null, 2)}\n`);
} else if (mode === "restore") {
  if (fs.existsSync(backupPath)) fs.renameSync(backupPath, manifestPath);
} else {
  console.error("usage: node scripts/pack-manifest.mjs strip|restore");
  process.exit(2);
}
