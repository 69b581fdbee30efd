# shellcheck shell=bash
# Helpers shared by packaging/cluster/{up,down,status}. Source it after
# common.sh; it defines functions and constants only and changes no shell
# options.
#
# A cluster directory DIR holds:
#   .depot-cluster   marker: DIR was made by cluster/up and may be wiped by it
#   env              KEY=value lines (PRIMARY_PORT, STANDBY_PORT, PG_BIN,
#                    NODES, ENDPOINTS, DSN, ...), sourceable by bash
#   pids             `name pid` lines, in start order: pg-primary, pg-standby,
#                    node1..nodeN
#   pg/              owned by postgres: data dirs primary/ and standby/, their
#                    logs, and the unix sockets
#   node<i>/, node<i>.log   depotd data dir and log of node i
#
#   cluster_default_dir          $DEPOT_CLUSTER_DIR, else /tmp/depot-cluster
#   cluster_abs_dir DIR          DIR as an absolute path
#   cluster_pid_alive PID DIR    PID runs and its command line names DIR
#   cluster_pid_running PID      PID runs (a zombie does not)
#   cluster_stop_pg PID [SECS]   fast shutdown (INT), bounded wait, then QUIT/KILL
#   cluster_stop_all DIR         stops everything recorded in DIR/pids, newest first
#   cluster_psql PORT DB SQL     one query over TCP as postgres, unaligned output

CLUSTER_PG_BIN=/usr/lib/postgresql/15/bin

cluster_default_dir() { printf '%s\n' "${DEPOT_CLUSTER_DIR:-/tmp/depot-cluster}"; }

cluster_abs_dir() { realpath -m -- "$1"; }

# Liveness of a recorded pid. The command line must mention DIR (depotd gets
# --data-dir DIR/node<i>, the postmaster -D DIR/pg/<name>), so a pid reused by
# an unrelated process after a reboot or a crash is never taken for ours (nor
# stopped); a zombie has an empty command line and counts as dead.
cluster_pid_alive() {
  local pid="$1" dir="$2" cmdline
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 0
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  [[ "$cmdline" == *"$dir/"* ]]
}

# True while PID runs. A zombie counts as gone: on some machines init reaps
# orphans only every second or two, and kill -0 succeeds on a zombie.
cluster_pid_running() {
  local stat
  kill -0 "$1" 2>/dev/null || return 1
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
  stat="${stat##*) }"
  [[ "${stat%% *}" != Z ]]
}

# cluster_wait_gone PID SECONDS: bounded wait for PID to exit.
cluster_wait_gone() {
  local pid="$1" seconds="$2" i
  for ((i = 0; i < seconds * 10; i++)); do
    cluster_pid_running "$pid" || return 0
    sleep 0.1
  done
  ! cluster_pid_running "$pid"
}

# Stops a postmaster: SIGINT is PostgreSQL's fast shutdown (aborts sessions,
# checkpoints, exits). Up to SECONDS (default 30) for it, then SIGQUIT
# (immediate shutdown) and 5 s more, then SIGKILL.
cluster_stop_pg() {
  local pid="$1" seconds="${2:-30}"
  cluster_pid_running "$pid" || return 0
  kill -INT "$pid" 2>/dev/null || true
  cluster_wait_gone "$pid" "$seconds" && return 0
  depot_log "postgres $pid did not shut down in ${seconds}s; immediate shutdown"
  kill -QUIT "$pid" 2>/dev/null || true
  cluster_wait_gone "$pid" 5 && return 0
  depot_log "postgres $pid is still running; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  cluster_wait_gone "$pid" 5
}

# Stops every process recorded in DIR/pids, in reverse start order (depotd
# nodes before the databases they use), plus any postmaster whose pid file is
# in DIR/pg but which was never recorded (up killed between pg_ctl and the
# record). Tolerates dead pids. Fails when something could not be stopped.
cluster_stop_all() {
  local dir="$1" name pid rc=0 pidfile i
  local -a lines=() running=()
  if [[ -f "$dir/pids" ]]; then mapfile -t lines <"$dir/pids"; fi
  for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
    read -r name pid _ <<<"${lines[$i]}" || true
    [[ -n "${name:-}" && -n "${pid:-}" ]] || continue
    if cluster_pid_alive "$pid" "$dir"; then
      running+=("$name $pid")
    else
      depot_log "$name (pid $pid) is not running"
    fi
  done
  # TERM to every depotd first, so that they shut down in parallel; the loop
  # below then waits for each in turn (and KILLs a straggler).
  for i in "${running[@]}"; do
    read -r name pid <<<"$i"
    if [[ "$name" != pg-* ]]; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for i in "${running[@]}"; do
    read -r name pid <<<"$i"
    depot_log "stopping $name (pid $pid)"
    case "$name" in
      pg-*) cluster_stop_pg "$pid" 30 || rc=1 ;;
      *)
        depot_stop_pid "$pid" 10
        cluster_wait_gone "$pid" 5 || rc=1
        ;;
    esac
  done
  for pidfile in "$dir"/pg/*/postmaster.pid; do
    [[ -f "$pidfile" ]] || continue
    pid="$(head -n 1 "$pidfile" 2>/dev/null || true)"
    if cluster_pid_alive "$pid" "$dir"; then
      depot_log "stopping unrecorded postgres (pid $pid, $(dirname "$pidfile"))"
      cluster_stop_pg "$pid" 30 || rc=1
    fi
  done
  return "$rc"
}

# cluster_psql PORT DB SQL: runs SQL on 127.0.0.1:PORT as postgres (trust
# auth over TCP, so no runuser), tuples only, `|`-separated; bounded by a 2 s
# connect timeout and a 10 s overall timeout.
cluster_psql() {
  local port="$1" db="$2" sql="$3"
  PGCONNECT_TIMEOUT=2 timeout 10 "$CLUSTER_PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$port" -U postgres -d "$db" -c "$sql" </dev/null
}
