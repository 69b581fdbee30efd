# shellcheck shell=bash
# Helpers shared by packaging/ scripts. Source it; it defines functions only
# (and DEPOT_ROOT) and changes no shell options.
#
#   depot_build_dir              $DEPOT_BUILD_DIR, else <repo>/build
#   depot_configure              cmake configure (Ninja, RelWithDebInfo) if not yet done
#   depot_ensure_built [TGT...]  configure + build (-j2; Ninja is incremental);
#                                DEPOT_SKIP_BUILD=1 uses the binaries as they are
#   depot_bin NAME               path of a built binary (builds it if missing)
#   depot_free_port [LO] [HI]    a TCP port nobody listens on, default 20000-32000
#   depot_wait_for_port HOST PORT SECONDS [PID]
#   depot_wait_healthy SERVER SECONDS [PID]   depotctl health until serving
#   depot_stop_pid PID [SECONDS]  TERM, bounded wait, then KILL

DEPOT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

depot_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
depot_die() {
  depot_log "error: $*"
  exit 1
}

depot_build_dir() { printf '%s\n' "${DEPOT_BUILD_DIR:-$DEPOT_ROOT/build}"; }

depot_configure() {
  local build
  build="$(depot_build_dir)"
  if [[ ! -f "$build/build.ninja" || ! -f "$build/CMakeCache.txt" ]]; then
    depot_log "configuring $build"
    cmake -S "$DEPOT_ROOT" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
  fi
}

# Builds the given targets (all when none). Ninja only rebuilds what is
# stale, so calling this every time is cheap. -j2: the machine has 2 cores.
depot_ensure_built() {
  local build args=()
  build="$(depot_build_dir)"
  if [[ "${DEPOT_SKIP_BUILD:-0}" == 1 ]]; then
    depot_log "DEPOT_SKIP_BUILD=1: using the binaries in $build/bin as they are"
    return 0
  fi
  depot_configure
  local target
  for target in "$@"; do args+=(--target "$target"); done
  depot_log "building ${*:-all} in $build"
  cmake --build "$build" -j2 "${args[@]}"
}

depot_bin() {
  local path
  path="$(depot_build_dir)/bin/$1"
  if [[ ! -x "$path" ]]; then depot_ensure_built "$1" >&2; fi
  [[ -x "$path" ]] || depot_die "$1 was not built ($path)"
  printf '%s\n' "$path"
}

# True when something listens on TCP port $1 (IPv4 or IPv6, any address).
depot_port_in_use() {
  local hex
  hex="$(printf '%04X' "$1")"
  awk -v port="$hex" 'NR > 1 && $4 == "0A" { split($2, a, ":"); if (a[2] == port) found = 1 }
                      END { exit found ? 0 : 1 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# Ports below 32768: the kernel's ephemeral range starts there, so a client
# socket can never steal a server port picked here.
depot_free_port() {
  local lo="${1:-20000}" hi="${2:-32000}" port i
  for ((i = 0; i < 200; i++)); do
    port=$((lo + RANDOM % (hi - lo + 1)))
    if ! depot_port_in_use "$port"; then
      printf '%s\n' "$port"
      return 0
    fi
  done
  depot_die "no free port in $lo-$hi"
}

# Waits until HOST:PORT accepts a connection, at most SECONDS; fails early
# when PID (optional) exits.
depot_wait_for_port() {
  local host="$1" port="$2" seconds="$3" pid="${4:-}"
  local deadline=$((SECONDS + seconds))
  while ((SECONDS < deadline)); do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      depot_log "process $pid exited while waiting for $host:$port"
      return 1
    fi
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  depot_log "timed out after ${seconds}s waiting for $host:$port"
  return 1
}

# Waits until `depotctl health` reports SERVING, at most SECONDS.
depot_wait_healthy() {
  local server="$1" seconds="$2" pid="${3:-}" depotctl
  depotctl="$(depot_bin depotctl)"
  local deadline=$((SECONDS + seconds))
  while ((SECONDS < deadline)); do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      depot_log "process $pid exited while waiting for $server to be healthy"
      return 1
    fi
    if "$depotctl" --server "$server" --timeout 1 health >/dev/null 2>&1; then return 0; fi
    sleep 0.3
  done
  depot_log "timed out after ${seconds}s waiting for $server to be healthy"
  return 1
}

# Stops PID: SIGTERM, up to SECONDS (default 10) for it to exit, then SIGKILL.
depot_stop_pid() {
  local pid="$1" seconds="${2:-10}" i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < seconds * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    depot_log "process $pid did not stop in ${seconds}s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
