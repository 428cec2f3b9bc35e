#!/usr/bin/env bash
# Installs LocalStack 4.14.0 for host mode (no Docker), project-local and
# idempotent (a second run checks a stamp file and exits):
#   .venv-localstack/                 venv with localstack-core[runtime]==4.14.0
#   .venv-localstack/static-libs/     kinesis-local@0.5.2, pre-provisioned where
#                                     LocalStack's Kinesis provider looks for it
# Needs: Python >= 3.13, npm (package registry only). Usage:
#   scripts/install_localstack.sh
# Env: LOCALSTACK_VENV (default <repo>/.venv-localstack), PYTHON (interpreter;
#   default: the first Python >= 3.13 among python3.14, python3.13, pyenv's
#   3.13.x/3.14.x, python3)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# LOCALSTACK_VERSION, KINESIS_LOCAL_VERSION, DEPS_CUTOFF (shared with the image build).
. "$repo/scripts/localstack_pins.sh"
venv="${LOCALSTACK_VENV:-$repo/.venv-localstack}"
stamp="$venv/.installed-$LOCALSTACK_VERSION-$KINESIS_LOCAL_VERSION"

if [[ -f "$stamp" ]]; then
  echo "LocalStack $LOCALSTACK_VERSION is already installed in $venv"
  exit 0
fi

# The metadata says Python >= 3.10, but localstack/packages/api.py evaluates
# `threading.Lock | None` at import time, which raises on 3.10-3.12 (Lock is a
# function there, a class from 3.13): importing the Kinesis provider fails with
# "TypeError: unsupported operand type(s) for |: 'builtin_function_or_method'
# and 'NoneType'". The official image runs 3.13.
py_ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 13))' >/dev/null 2>&1; }
python="${PYTHON:-}"
if [[ -z "$python" ]]; then
  for c in python3.14 python3.13 "$HOME"/.pyenv/versions/3.14*/bin/python3 \
           "$HOME"/.pyenv/versions/3.13*/bin/python3 python3; do
    if py_ok "$c"; then python="$c"; break; fi
  done
fi
if [[ -z "$python" ]] || ! py_ok "$python"; then
  echo "LocalStack $LOCALSTACK_VERSION needs Python >= 3.13 (none found; set PYTHON=...)" >&2
  exit 1
fi
echo "Using $python ($("$python" --version))"
command -v npm >/dev/null || { echo "npm is required to install kinesis-local" >&2; exit 1; }

# A venv left by an older interpreter cannot run LocalStack: start over.
if [[ -e "$venv" ]] && ! py_ok "$venv/bin/python"; then rm -rf "$venv"; fi
[[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
# `runtime` pulls moto-ext (STS) and the other provider dependencies. Its
# requirements are open-ended, and later releases break it (cbor2 6.x dropped
# `cbor2._decoder`, which localstack/aws/protocol/parser.py imports), so resolve
# against the registry as it was just after the release (pip >= 26 option).
"$venv/bin/python" -m pip install --quiet --uploaded-prior-to "$DEPS_CUTOFF" \
  "localstack-core[runtime]==$LOCALSTACK_VERSION"

# LocalStack looks for <static_libs>/kinesis-local/<version>/node_modules/
# kinesis-local/main.js before it would run `npm install` at first use. The
# harness symlinks this directory as static_libs into each run's FILESYSTEM_ROOT.
libs="$venv/static-libs"
kl_dir="$libs/kinesis-local/$KINESIS_LOCAL_VERSION"
if [[ ! -f "$kl_dir/node_modules/kinesis-local/main.js" ]]; then
  mkdir -p "$kl_dir"
  npm install --prefix "$kl_dir" --no-save --no-audit --no-fund --loglevel=error \
    "kinesis-local@$KINESIS_LOCAL_VERSION"
fi

# Smoke check: the imports host mode needs.
"$venv/bin/python" -c 'import localstack.runtime.main, localstack.services.kinesis.provider, localstack.services.sts.provider'

touch "$stamp"
echo "LocalStack $LOCALSTACK_VERSION installed in $venv"
