#!/usr/bin/env bash
# Builds the test suite's LocalStack image once and caches it by content:
#   1. debootstrap of Debian trixie (Python 3.13, Node) from Debian's packages,
#      cached as a root filesystem tarball
#   2. `docker import` of it as kpl-debian:trixie-<hash>
#   3. scripts/localstack_image/Dockerfile on top: localstack-core 4.14.0 with
#      the pins of scripts/localstack_pins.sh (as host mode), kinesis-local
#   4. `docker save` of the result, so another data root (another checkout,
#      a fresh CI engine) loads it instead of building again
# The tag is kpl-localstack:<LocalStack version>-<hash of this script, the
# Dockerfile and the pins>; any change to those inputs means a new tag. It is
# not, and must not be mistaken for, the published localstack/localstack.
#
# Needs DOCKER_HOST pointing at an engine (scripts/docker_engine.sh run ...)
# and root for debootstrap. Prints the image reference on stdout, progress on
# stderr; a failure is one line naming the step (full log under the cache).
#
# Env:
#   KPL_IMAGE_CACHE   cache dir (default ${XDG_CACHE_HOME:-~/.cache}/kpl-localstack-image)
#   KPL_IMAGE_REBUILD 1: ignore the cached image (the rootfs cache still applies)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$repo/scripts/localstack_pins.sh"
context="$repo/scripts/localstack_image"
cache="${KPL_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kpl-localstack-image}"

SUITE="trixie"
VARIANT="minbase"
# npm is not here: debootstrap's resolver cannot install it (the Dockerfile does).
INCLUDE="python3,python3-venv,nodejs,ca-certificates"
NAME="kpl-localstack"

# Extra CAs this host trusts (Debian's place for them): a TLS-inspecting egress
# proxy signs with one, so pip and npm in the build need it. They go into the
# root filesystem's system store, and so into its cache key.
extra_cas=(/usr/local/share/ca-certificates/*.crt)
[[ -e "${extra_cas[0]}" ]] || extra_cas=()

sha() { sha256sum | cut -c1-16; }
base_key="$( (printf '%s\n' "$SUITE" "$VARIANT" "$INCLUDE"; cat "${extra_cas[@]}" </dev/null) | sha)"
image_key="$( (echo "$base_key"; cat "$0" "$context/Dockerfile" "$repo/scripts/localstack_pins.sh") | sha)"
base_ref="kpl-debian:$SUITE-$base_key"
ref="$NAME:$LOCALSTACK_VERSION-$image_key"

say() { echo "localstack image: $*" >&2; }
fail() { # step why
  echo "localstack image: $1 failed: $2" >&2
  exit 1
}
have_image() { docker image inspect "$1" >/dev/null 2>&1; }

docker version >/dev/null 2>&1 || fail "connect to the engine" "no answer at ${DOCKER_HOST:-the default socket}"
if [[ "${KPL_IMAGE_REBUILD:-0}" != 1 ]] && have_image "$ref"; then
  say "$ref is present"
  echo "$ref"
  exit 0
fi

mkdir -p "$cache"
# One build per machine at a time; others wait, then load its result.
exec 8>"$cache/build.lock"
flock -w 3600 8 || fail "wait for the build lock" "another build held $cache/build.lock for an hour"
t0=$SECONDS
tmp="$(mktemp -d "$cache/tmp.XXXXXX")"
cleanup() {
  # debootstrap mounts /proc and /sys in the target while it configures.
  for m in proc sys dev/pts dev; do umount -l "$tmp/rootfs/$m" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

saved="$cache/$NAME-$LOCALSTACK_VERSION-$image_key.tar"
if [[ "${KPL_IMAGE_REBUILD:-0}" != 1 && -f "$saved" ]]; then
  say "loading $ref from $saved"
  docker load -q -i "$saved" >"$tmp/load.log" 2>&1 \
    || fail "docker load" "$(tail -n 1 "$tmp/load.log") (delete $saved to rebuild)"
  have_image "$ref" || fail "docker load" "$saved did not hold $ref (delete it to rebuild)"
  say "loaded in $((SECONDS - t0))s"
  echo "$ref"
  exit 0
fi

rootfs_tar="$cache/debian-$SUITE-$base_key.tar"
if [[ ! -f "$rootfs_tar" ]]; then
  [[ "$(id -u)" == 0 ]] || fail "debootstrap" "needs root"
  command -v debootstrap >/dev/null || {
    say "installing debootstrap with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y -q debootstrap \
      >"$tmp/apt.log" 2>&1 || fail "install debootstrap" "apt-get failed: $(tail -n 1 "$tmp/apt.log")"
  }
  say "debootstrap $SUITE ($VARIANT + $INCLUDE)"
  log="$cache/debootstrap.log"
  timeout 1800 debootstrap --variant="$VARIANT" --include="$INCLUDE" "$SUITE" "$tmp/rootfs" \
    >"$log" 2>&1 || fail "debootstrap" "$(grep -E '^[EW]:' "$log" | tail -n 1) (log: $log)"
  if ((${#extra_cas[@]})); then
    cp "${extra_cas[@]}" "$tmp/rootfs/usr/local/share/ca-certificates/"
    chroot "$tmp/rootfs" update-ca-certificates >>"$log" 2>&1 \
      || fail "debootstrap" "update-ca-certificates failed in the root filesystem (log: $log)"
  fi
  rm -rf "$tmp/rootfs/var/cache/apt/archives/"*.deb "$tmp/rootfs/var/lib/apt/lists/"*
  tar --numeric-owner -C "$tmp/rootfs" -cf "$tmp/rootfs.tar" . \
    || fail "debootstrap" "could not pack the root filesystem"
  mv "$tmp/rootfs.tar" "$rootfs_tar"
  rm -rf "$tmp/rootfs"
  say "root filesystem cached in $rootfs_tar after $((SECONDS - t0))s"
fi
if ! have_image "$base_ref"; then
  # The final image's settings, here because every Dockerfile instruction
  # costs a container (a full vfs copy of the image) in the legacy builder.
  docker import \
    -c 'ENV PATH=/opt/localstack/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV LANG=C.UTF-8' -c 'ENV PYTHONUNBUFFERED=1' \
    -c 'WORKDIR /opt/localstack' -c 'EXPOSE 4566' \
    -c 'CMD ["python", "-m", "localstack.runtime.main"]' \
    "$rootfs_tar" "$base_ref" >"$tmp/import.log" 2>&1 \
    || fail "docker import" "$(tail -n 1 "$tmp/import.log")"
  say "imported $base_ref"
fi

say "docker build $ref (LocalStack $LOCALSTACK_VERSION, deps as of $DEPS_CUTOFF, kinesis-local $KINESIS_LOCAL_VERSION)"
log="$cache/build.log"
# Legacy builder (dockerd 20.10 here, no buildx); host network as there is no
# bridge; --force-rm: no intermediate container survives a failed step. No
# --label: it appends an instruction (a container); the tag names the inputs.
if ! DOCKER_BUILDKIT=0 timeout 3600 docker build --network host --force-rm \
  --build-arg "BASE_IMAGE=$base_ref" \
  --build-arg "LOCALSTACK_VERSION=$LOCALSTACK_VERSION" \
  --build-arg "KINESIS_LOCAL_VERSION=$KINESIS_LOCAL_VERSION" \
  --build-arg "DEPS_CUTOFF=$DEPS_CUTOFF" \
  -t "$ref" "$context" >"$log" 2>&1; then
  step="$(grep -E '^Step [0-9]+/[0-9]+' "$log" | tail -n 1 | cut -c1-40)"
  why="$(grep -E '^(ERROR|E:|npm ERR|npm error)|Error' "$log" | tail -n 1 | cut -c1-200)"
  fail "docker build" "${step:+at $step...: }${why:-$(tail -n 1 "$log" | cut -c1-200)} (log: $log)"
fi
say "built $ref in $((SECONDS - t0))s"

docker save -o "$tmp/image.tar" "$ref" >"$tmp/save.log" 2>&1 \
  || fail "docker save" "$(tail -n 1 "$tmp/save.log")"
# Only the current inputs' image is kept.
rm -f "$cache/$NAME-"*.tar
mv "$tmp/image.tar" "$saved"
say "saved to $saved ($(du -h "$saved" | cut -f1)); $((SECONDS - t0))s in all"
echo "$ref"
