#!/usr/bin/env bash
# CI: each example works inside a clone with exactly the commands its README gives. Runs, in each
# examples/*/ directory, the README's first ```sh block up to its first `pulumi` command (the
# install and type-check; `pulumi` itself needs the CLI and a server), then checks what a user
# would get from the registry: the package installed as a copy (not a link to the repository),
# and a single @pulumi/pulumi, the example's, loaded by the program and by the package alike.
# A YAML example (no package.json) needs the Pulumi CLI for anything beyond the schema check
# that tests/examples-yaml.test.ts makes, so it is skipped here.
set -euo pipefail
cd "$(dirname "$0")/.."

for dir in examples/*/; do
  name=$(basename "$dir")
  [ -f "$dir/package.json" ] || { echo "== examples/$name: not a Node.js project, skipped"; continue; }
  commands=$(awk '/^```sh$/ { inside = 1; next } inside && /^```/ { exit } inside && /^pulumi / { exit } inside { print }' "$dir/README.md")
  [ -n "$commands" ] || { echo "check-examples: no commands in $dir/README.md" >&2; exit 1; }
  echo "== examples/$name"
  while IFS= read -r command; do
    echo "\$ $command"
    (cd "$dir" && bash -c "$command")
  done <<<"$commands"
  (cd "$dir" && node -e '
const fs = require("fs");
const { createRequire } = require("module");
const installed = "node_modules/pulumi-octopus-apikey";
if (fs.lstatSync(installed).isSymbolicLink()) throw new Error(installed + " is a link, not an installed copy");
const pkg = require.resolve("pulumi-octopus-apikey");
const fromProgram = fs.realpathSync(require.resolve("@pulumi/pulumi"));
const fromPackage = fs.realpathSync(createRequire(pkg).resolve("@pulumi/pulumi"));
if (fromProgram !== fromPackage) throw new Error("two copies of @pulumi/pulumi: " + fromProgram + " and " + fromPackage);
const list = require("child_process").execFileSync("npm", ["ls", "@pulumi/pulumi", "--all", "--parseable"], { encoding: "utf8" });
const copies = [...new Set(list.split("\n").filter(Boolean).map((p) => fs.realpathSync(p)))];
if (copies.length !== 1) throw new Error("expected one @pulumi/pulumi, found: " + copies.join(", "));
console.log("ok: one @pulumi/pulumi (" + copies[0] + "), the package installed as a copy");
')
done
