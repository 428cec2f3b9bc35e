#!/usr/bin/env sh
# Installs the npm dependencies when node_modules is missing or older than the
# lockfile, so `deno task ship` and `deno task test` work on a fresh clone.
# Output goes to stderr: `ship --json` keeps stdout clean.
set -eu
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "Installing npm dependencies (npm ci)..." >&2
  npm ci --no-audit --no-fund >&2
fi
