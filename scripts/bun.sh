#!/usr/bin/env bash
# Runs a command with Bun first on PATH (CI's Bun step, issue 18):
#
#   bash scripts/bun.sh 1.4 bun test test/postgres/conformance.test.ts
#
# The registry carries Bun as the package `@oven/bun-linux-x64` (the binary is inside; it needs a
# CPU with AVX2, `@oven/bun-linux-x64-baseline` is the build for older ones). `npm pack` fetches
# the newest release matching <version> into .cache/bun/ (ignored by git; SPOOL_RUNTIME_CACHE
# moves .cache, as for scripts/node-version.sh); a cached one is reused. What runs on Bun and
# what cannot is in docs/runtimes.md.
set -euo pipefail
cd "$(dirname "$0")/.."

spec="${1:?usage: bun.sh <version> <command...>}"
shift
[ $# -gt 0 ] || { echo "usage: bun.sh <version> <command...>" >&2; exit 2; }
case "$spec" in *[!0-9.]*) echo "bun.sh: <version> is like 1.4, not '$spec'" >&2; exit 2 ;; esac

cache="${SPOOL_RUNTIME_CACHE:-$PWD/.cache}/bun"
home="$cache/$spec"
mkdir -p "$cache"

if [ ! -x "$home/bin/bun" ]; then
  echo "bun: fetching @oven/bun-linux-x64@$spec from the registry" >&2
  tmp="$(mktemp -d "$cache/.fetch-XXXXXX")"
  tgz="$(cd "$tmp" && npm pack --silent "@oven/bun-linux-x64@$spec" | tail -n 1)"
  mkdir -p "$tmp/out"
  tar -xzf "$tmp/$tgz" -C "$tmp/out" --strip-components=1
  "$tmp/out/bin/bun" --version >/dev/null # it runs here, or nothing is cached
  rm -rf "$home"
  mv "$tmp/out" "$home"
  rm -rf "$tmp"
fi

echo "bun: running on Bun $("$home/bin/bun" --revision): $*" >&2
PATH="$home/bin:$PATH" exec "$@"
