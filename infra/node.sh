#!/usr/bin/env bash
# Which Node.js dasy runs on (README: Node.js). dasy supports Node 22 and 24 (package.json engines)
# and runs on the machine's own `node` when it is one of them, otherwise on the Node 24 that
# `npm ci` installed from the npm registry: the optionalDependencies node24-<os>-<cpu>, whose os/cpu
# fields make npm install only the one for this platform (none where the registry has none).
# Usage:
#   infra/node.sh path [22|24]  the node binary: without a major, the machine's if it is 22 or 24,
#                               else the installed 24; with one, the machine's if it is that major,
#                               else the installed one of that major
#   infra/node.sh link          npm ci's postinstall: node_modules/.bin/node -> `path` (npm's own
#                               link there is whichever node package it linked last), and
#                               node_modules/.node22/node, .node24/node -> `path 22`, `path 24`
#   infra/node.sh check [22|24] fails unless the `node` on PATH is 22 or 24 (or that major)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SUPPORTED=(24 22)

die() { echo "node: $*" >&2; exit 1; }

major_of() { "$1" --version 2>/dev/null | sed -n 's/^v\([0-9]*\)\..*/\1/p'; }

# The machine's node: the first on PATH outside any node_modules (npm puts node_modules/.bin, where
# our own link lives, first on PATH for its scripts).
machine_node() {
  local dir
  local IFS=:
  for dir in $PATH; do
    [[ $dir == */node_modules/* || -z $dir ]] && continue
    [[ -x $dir/node && ! -d $dir/node ]] && { echo "$dir/node"; return 0; }
  done
  return 1
}

# The node installed by npm ci for this platform, of this major (one directory at most matches).
installed_node() {
  local bin
  for bin in "$ROOT"/node_modules/node"$1"-*/bin/node; do
    [[ -x $bin && $(major_of "$bin") == "$1" ]] && { echo "$bin"; return 0; }
  done
  return 1
}

node_path() {
  local want=${1:-} machine major m
  if machine=$(machine_node); then major=$(major_of "$machine"); else major=; fi
  if [[ -n $want ]]; then
    [[ $major == "$want" ]] && { echo "$machine"; return 0; }
    installed_node "$want" && return 0
  else
    for m in "${SUPPORTED[@]}"; do [[ $major == "$m" ]] && { echo "$machine"; return 0; }; done
    installed_node 24 && return 0
  fi
  die "dasy needs Node.js ${want:-22 or 24}; the machine's node is ${major:+v$major at }${machine:-missing} and npm ci installed none for $(uname -s)/$(uname -m) (node_modules/node${want:-24}-*): install Node.js ${want:-24} (nodejs.org or the system's packages) and run npm ci again"
}

link() {
  local bin m
  bin=$(node_path)
  mkdir -p "$ROOT/node_modules/.bin"
  ln -sfn "$bin" "$ROOT/node_modules/.bin/node"
  for m in "${SUPPORTED[@]}"; do
    rm -rf "$ROOT/node_modules/.node$m"
    if bin=$(node_path "$m" 2>/dev/null); then mkdir -p "$ROOT/node_modules/.node$m" && ln -sfn "$bin" "$ROOT/node_modules/.node$m/node"; fi
  done
  echo "node: dasy runs on $("$ROOT/node_modules/.bin/node" --version) ($(readlink "$ROOT/node_modules/.bin/node"))"
}

check() {
  local want=${1:-} bin major
  bin=$(command -v node) || die "no node on PATH: run npm ci (make does)"
  major=$(major_of "$bin")
  if [[ -n $want ]]; then
    [[ $major == "$want" ]] || die "this target was asked to run on Node.js $want but the node on PATH is v$major ($bin): is there a Node $want here? (npm ci links it to node_modules/.node$want)"
  else
    [[ $major == 22 || $major == 24 ]] || die "dasy needs Node.js 22 or 24, the node on PATH is v$major ($bin): run npm ci (it links one to node_modules/.bin/node)"
  fi
}

case "${1:-}" in
  path) node_path "${2:-}" ;;
  link) link ;;
  check) check "${2:-}" ;;
  *) die "usage: infra/node.sh path [22|24] | link | check [22|24]" ;;
esac
