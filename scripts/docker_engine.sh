#!/usr/bin/env bash
# A private Docker engine for the test suite: Debian's dockerd, run as root
# with no iptables and no bridge (containers use host networking), and its own
# data root, exec root, socket and pidfile, so it never meets a system daemon
# or another checkout's. Storage: overlay2 where the kernel mounts overlayfs
# on the data root's filesystem (probed), else vfs, which copies the whole
# image for every container (measured here for the ~800 MB LocalStack image:
# create 75 s and remove 40 s on vfs, 1.5 s and 0.9 s on overlay2).
#
#   scripts/docker_engine.sh run [--] CMD...   start, run CMD with DOCKER_HOST
#                                              set, stop (on every exit path)
#   scripts/docker_engine.sh start | stop | status
#
# Sourced (`. scripts/docker_engine.sh`), it defines docker_engine_start and
# docker_engine_stop for a caller that sets its own trap.
#
# Every failure is one line on stderr, `docker engine: <step>: <why>`, within a
# bounded time, and leaves no daemon behind. Exit status 3 means "no engine
# could start here" (callers may fall back); other failures exit 1.
#
# Env:
#   KPL_DOCKER_DIR          state dir: data root, log, lock (default <repo>/.docker)
#   KPL_DOCKER_RUN_DIR      socket, pidfile, exec root; kept short because of the
#                           108-byte unix socket limit (default /tmp/kpl-docker-<hash of state dir>)
#   DOCKER_ENGINE_TIMEOUT   seconds to wait for the daemon to answer (default 60)
#   DOCKER_ENGINE_INSTALL   0: never apt-get install docker.io (default 1)
#   DOCKER_ENGINE_STORAGE   overlay2 or vfs (default: probed)

_de_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_de_state="${KPL_DOCKER_DIR:-$_de_repo/.docker}"
_de_run="${KPL_DOCKER_RUN_DIR:-/tmp/kpl-docker-$(printf %s "$_de_state" | sha256sum | cut -c1-12)}"
_de_sock="$_de_run/docker.sock"
_de_pidfile="$_de_run/dockerd.pid"
_de_log="$_de_state/dockerd.log"
_de_timeout="${DOCKER_ENGINE_TIMEOUT:-60}"
# The label the harness puts on its containers; swept before the daemon stops.
_de_label="kpl.harness=localstack"

_de_fail() { # status step why
  echo "docker engine: $2: $3" >&2
  return "$1"
}

_de_docker() { docker -H "unix://$_de_sock" "$@"; }

# overlay2 if an overlay mount works in the data root's filesystem, else vfs.
_de_storage() {
  if [[ -n "${DOCKER_ENGINE_STORAGE:-}" ]]; then
    echo "$DOCKER_ENGINE_STORAGE"
    return
  fi
  local p="$_de_state/overlay-probe" driver=vfs
  rm -rf "$p" && mkdir -p "$p/l" "$p/u" "$p/w" "$p/m" \
    && mount -t overlay overlay -o "lowerdir=$p/l,upperdir=$p/u,workdir=$p/w" "$p/m" 2>/dev/null \
    && umount "$p/m" && driver=overlay2
  rm -rf "$p"
  echo "$driver"
}

# Mounts dockerd leaves under our dirs when it dies without its shutdown (its
# data root is bind-mounted on itself; network namespaces in the exec root).
_de_unmount() {
  local m
  awk '{print $2}' /proc/self/mounts \
    | grep -E "^($_de_state/data|$_de_run/exec)(/|$)" | sort -r \
    | while read -r m; do umount -l "$m" 2>/dev/null; done
  return 0
}

# Starts dockerd unless ours is already up; exports DOCKER_HOST. Returns 3 when
# no engine can start here, 1 on other failures; the daemon is gone either way.
docker_engine_start() {
  if [[ "$(id -u)" != 0 ]]; then
    _de_fail 3 "start dockerd" "needs root (rootless dockerd is not set up here)"
    return
  fi
  if ! command -v dockerd >/dev/null 2>&1; then
    if [[ "${DOCKER_ENGINE_INSTALL:-1}" != 1 ]]; then
      _de_fail 3 "install docker.io" "dockerd is not installed and DOCKER_ENGINE_INSTALL=0"
      return
    fi
    echo "docker engine: installing docker.io with apt-get" >&2
    if ! DEBIAN_FRONTEND=noninteractive timeout 600 apt-get -o DPkg::Lock::Timeout=120 \
      install -y -q docker.io >"$_de_run.apt.log" 2>&1 \
      || ! command -v dockerd >/dev/null 2>&1; then
      _de_fail 3 "install docker.io" "apt-get failed (log: $_de_run.apt.log)"
      return
    fi
  fi
  command -v docker >/dev/null 2>&1 || {
    _de_fail 3 "install docker.io" "no docker CLI on PATH"
    return
  }
  mkdir -p "$_de_state/data" "$_de_run/exec" || {
    _de_fail 1 "start dockerd" "cannot create $_de_state or $_de_run"
    return
  }
  # Ours already running (a previous start in this shell, or `start`)?
  if [[ -f "$_de_pidfile" ]] && kill -0 "$(cat "$_de_pidfile")" 2>/dev/null \
    && [[ "$(timeout 10 docker -H "unix://$_de_sock" info -f '{{.DockerRootDir}}' 2>/dev/null)" \
      == "$_de_state/data/"* ]]; then
    export DOCKER_HOST="unix://$_de_sock"
    return 0
  fi
  # One daemon per data root: a concurrent run in this checkout must not share it.
  exec {_de_lockfd}>"$_de_state/lock"
  if ! flock -n "$_de_lockfd"; then
    exec {_de_lockfd}>&-
    _de_fail 3 "start dockerd" "another run holds $_de_state/lock (its dockerd uses this data root)"
    return
  fi
  if [[ -S "$_de_sock" ]] && timeout 5 docker -H "unix://$_de_sock" version >/dev/null 2>&1; then
    exec {_de_lockfd}>&-
    _de_fail 3 "start dockerd" "another daemon already answers on $_de_sock"
    return
  fi
  rm -f "$_de_sock" "$_de_pidfile"
  : >"$_de_log"
  local driver
  driver="$(_de_storage)"
  # Each driver its own data root: an image stored by one is invisible to the other.
  mkdir -p "$_de_state/data/$driver"
  # setsid: its own session, so a Ctrl-C in the terminal reaches it only
  # through our trap, which stops it in order. The lock fd stays open in
  # dockerd: the data root counts as in use for exactly as long as it lives.
  setsid dockerd \
    --storage-driver "$driver" --iptables=false --ip6tables=false --bridge=none \
    --data-root "$_de_state/data/$driver" --exec-root "$_de_run/exec" \
    --pidfile "$_de_pidfile" -H "unix://$_de_sock" \
    --log-level warn >>"$_de_log" 2>&1 </dev/null &
  _de_pid=$!
  exec {_de_lockfd}>&-
  echo "$_de_pid" >"$_de_run/launched.pid"
  local deadline=$((SECONDS + _de_timeout))
  while true; do
    if ! kill -0 "$_de_pid" 2>/dev/null; then
      wait "$_de_pid" 2>/dev/null
      local why
      why="$(grep -v '^\s*$' "$_de_log" | tail -n 1 | cut -c1-300)"
      rm -f "$_de_run/launched.pid"
      _de_unmount
      _de_fail 3 "start dockerd" "it exited during start: ${why:-no output} (log: $_de_log)"
      return
    fi
    if timeout 5 docker -H "unix://$_de_sock" version >/dev/null 2>&1; then break; fi
    if ((SECONDS >= deadline)); then
      docker_engine_stop
      _de_fail 3 "wait for dockerd" "no answer on $_de_sock within ${_de_timeout}s (log: $_de_log)"
      return
    fi
    sleep 0.5
  done
  export DOCKER_HOST="unix://$_de_sock"
  echo "docker engine: dockerd $(_de_docker version -f '{{.Server.Version}}' 2>/dev/null) ($driver, pid $_de_pid) on $DOCKER_HOST" >&2
}

# Removes the harness's containers, then stops dockerd by its PID: SIGTERM,
# SIGKILL after 20 s (its containerd and shims too). Safe to call twice.
docker_engine_stop() {
  local pid=""
  [[ -f "$_de_run/launched.pid" ]] && pid="$(cat "$_de_run/launched.pid")"
  [[ -z "$pid" && -f "$_de_pidfile" ]] && pid="$(cat "$_de_pidfile")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || {
    rm -f "$_de_run/launched.pid"
    _de_unmount
    return 0
  }
  local ids
  ids="$(timeout 10 docker -H "unix://$_de_sock" ps -aq --filter "label=$_de_label" 2>/dev/null)"
  if [[ -n "$ids" ]]; then
    # shellcheck disable=SC2086
    timeout 30 docker -H "unix://$_de_sock" rm -f $ids >/dev/null 2>&1 \
      || echo "docker engine: stop: could not remove containers $ids" >&2
  fi
  # Its process tree (containerd, shims), for a SIGKILL if SIGTERM is not enough.
  local tree
  tree="$(ps -o pid= --ppid "$pid" 2>/dev/null | tr -s ' \n' ' ')"
  kill -TERM "$pid" 2>/dev/null
  local i
  for ((i = 0; i < 200; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "docker engine: stop: dockerd $pid ignored SIGTERM for 20s, killing it" >&2
    # shellcheck disable=SC2086
    kill -KILL "$pid" $tree 2>/dev/null
  fi
  # Reap it if it is our child, so no zombie holds the lock fd.
  wait "$pid" 2>/dev/null
  _de_unmount
  rm -f "$_de_run/launched.pid" "$_de_sock" "$_de_pidfile"
}

# Run as a script.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -uo pipefail
  case "${1:-}" in
    run)
      shift
      [[ "${1:-}" == "--" ]] && shift
      [[ $# -gt 0 ]] || { echo "usage: $0 run [--] CMD..." >&2; exit 2; }
      docker_engine_start || exit
      trap 'docker_engine_stop' EXIT
      trap 'exit 130' INT
      trap 'exit 143' TERM
      "$@"
      ;;
    start) docker_engine_start && echo "export DOCKER_HOST=$DOCKER_HOST" ;;
    stop) docker_engine_stop ;;
    status)
      if timeout 5 docker -H "unix://$_de_sock" version >/dev/null 2>&1; then
        echo "up: DOCKER_HOST=unix://$_de_sock (data root $_de_state/data)"
      else
        echo "down"
        exit 1
      fi
      ;;
    *)
      echo "usage: $0 run [--] CMD... | start | stop | status" >&2
      exit 2
      ;;
  esac
fi
