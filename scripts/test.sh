#!/usr/bin/env bash
# The whole test matrix, from a fresh clone (`deno task test` runs this):
# dependencies, LocalStack for the integration suite, then Deno, Bun, Node
# (against the npm build), workerd (in the Deno run), and a benchmark smoke run.
# REQUIRE_LOCALSTACK defaults to 1 here: a missing emulator fails, never skips.
set -euo pipefail
cd "$(dirname "$0")/.."

# `npx deno task test` starts us from a deno that is not on PATH: use that one.
if ! command -v deno >/dev/null 2>&1; then
  parent="$(readlink -f "/proc/$PPID/exe" 2>/dev/null || true)"
  case "$parent" in */deno) export PATH="$(dirname "$parent"):$PATH" ;; esac
fi
command -v deno >/dev/null 2>&1 || { echo "deno is not on PATH: install Deno 2 (npm install -g deno)" >&2; exit 1; }

sh scripts/ensure_deps.sh
scripts/install_localstack.sh
export REQUIRE_LOCALSTACK="${REQUIRE_LOCALSTACK:-1}"

step() { printf '\n==> %s\n' "$*" >&2; }
step "checks: types, lint, doc lint, publish dry run"
deno task check
deno publish --dry-run --allow-dirty --quiet
step "Deno: unit, integration (LocalStack), CLI, runtimes (workerd)"
deno test -A tests/
step "Deno: the doc comments' examples (deno test --doc)"
deno task test:doc
step "Bun: unit tests and smoke test"
deno task test:bun
step "Node: runtime-neutral tests against the npm build"
deno task test:node
step "benchmarks: smoke run"
deno task bench:smoke
