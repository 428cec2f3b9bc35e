#!/usr/bin/env bash
# The whole test matrix, from a fresh clone (`deno task test` runs this):
# dependencies, LocalStack for the integration suite (a container, else on the
# host: see below), then Deno, Bun, Node
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
export REQUIRE_LOCALSTACK="${REQUIRE_LOCALSTACK:-1}"

step() { printf '\n==> %s\n' "$*" >&2; }

# LocalStack for the harness and integration suites, one of two paths:
#   docker: a private dockerd (scripts/docker_engine.sh, stopped on every exit
#           path) and the locally built image (scripts/build_localstack_image.sh,
#           cached), run through testcontainers;
#   host:   when no engine can start here (not root, another run holds this
#           checkout's engine, KPL_NO_DOCKER=1), LocalStack from PyPI on the host.
# REQUIRE_DOCKER=1 turns "no engine" into a failure. A failed image build fails.
. scripts/docker_engine.sh
localstack_path=host
if [[ "${KPL_NO_DOCKER:-0}" == 1 ]]; then
  [[ "${REQUIRE_DOCKER:-0}" == 1 ]] && { echo "REQUIRE_DOCKER=1 contradicts KPL_NO_DOCKER=1" >&2; exit 1; }
  why="KPL_NO_DOCKER=1"
else
  step "LocalStack: docker engine and image"
  t_docker=$SECONDS
  trap docker_engine_stop EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  if docker_engine_start; then
    image="$(scripts/build_localstack_image.sh)" || {
      echo "LocalStack image could not be built (see above); not falling back to host mode" >&2
      exit 1
    }
    export KPL_LOCALSTACK_IMAGE="$image"
    # Ryuk's image cannot be pulled here; the harness and docker_engine_stop reap.
    export TESTCONTAINERS_RYUK_DISABLED=true
    localstack_path=docker
    echo "engine and image ready in $((SECONDS - t_docker))s" >&2
  else
    rc=$?
    [[ $rc == 3 ]] || exit 1
    if [[ "${REQUIRE_DOCKER:-0}" == 1 ]]; then
      echo "REQUIRE_DOCKER=1 but no docker engine could start (see above)" >&2
      exit 1
    fi
    why="no docker engine could start"
  fi
fi
if [[ $localstack_path == host ]]; then
  step "LocalStack: host mode ($why)"
  scripts/install_localstack.sh
fi
export KPL_LOCALSTACK_MODES="$localstack_path"
echo "LocalStack path: $localstack_path${image:+ (image $image)}" >&2
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
step "done; LocalStack path: $localstack_path${image:+ (image $image)}"
