# shellcheck shell=bash
# Helpers shared by packaging/cluster/{up,down,status}. Source it after
# common.sh; it defines functions and constants only and changes no shell
# options.
#
# A cluster directory DIR holds:
#   .depot-cluster   marker: DIR was made by cluster/up and may be wiped by it
#   env              KEY=value lines (PATRONI, PRIMARY_PORT, STANDBY_PORT,
#                    PG_BIN, NODES, ENDPOINTS, DSN, ...), sourceable by bash
#   pids             `name pid` lines, in start order: pg-primary, pg-standby,
#                    node1..nodeN; with --patroni: etcd, patroni-pg1,
#                    patroni-pg2, node1..nodeN (postmasters are Patroni's:
#                    found through DIR/pg/*/postmaster.pid)
#   pg/              owned by postgres: data dirs primary/ and standby/ (or
#                    pg1/ and pg2/ under Patroni), their logs, the unix sockets
#   etcd/, etcd.log  --patroni: etcd's data dir and log
#   patroni/         --patroni: pg1.yml, pg2.yml and the members' logs
#   node<i>/, node<i>.log   depotd data dir and log of node i
#
#   cluster_default_dir          $DEPOT_CLUSTER_DIR, else /tmp/depot-cluster
#   cluster_abs_dir DIR          DIR as an absolute path
#   cluster_pid_alive PID DIR    PID runs and its command line names DIR
#   cluster_pid_running PID      PID runs (a zombie does not)
#   cluster_stop_pg PID [SECS]   fast shutdown (INT), bounded wait, then QUIT/KILL
#   cluster_child_pid PID SECS   the (first) child of PID, waiting for it
#   cluster_stop_all DIR         stops everything recorded in DIR/pids: depotd
#                                nodes, Patroni members, postmasters, etcd
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

# cluster_child_pid PID SECONDS: prints the first child of PID, waiting up
# to SECONDS for it (runuser forks the command it runs and waits for it).
cluster_child_pid() {
  local pid="$1" seconds="$2" i children=""
  for ((i = 0; i < seconds * 10; i++)); do
    children="$(cat "/proc/$pid/task/$pid/children" 2>/dev/null || true)"
    if [[ -n "${children// /}" ]]; then
      printf '%s\n' "${children%% *}"
      return 0
    fi
    cluster_pid_running "$pid" || return 1
    sleep 0.1
  done
  return 1
}

# cluster_stop_group SECONDS "name pid"...: TERM to all at once (they shut
# down in parallel), then waits for each in turn, at most SECONDS, and KILLs
# a straggler. Fails when one is still running after that.
cluster_stop_group() {
  local seconds="$1" entry name pid rc=0
  shift
  for entry in "$@"; do
    read -r name pid <<<"$entry"
    kill -TERM "$pid" 2>/dev/null || true
  done
  for entry in "$@"; do
    read -r name pid <<<"$entry"
    depot_log "stopping $name (pid $pid)"
    depot_stop_pid "$pid" "$seconds"
    cluster_wait_gone "$pid" 5 || rc=1
  done
  return "$rc"
}

# Stops every process recorded in DIR/pids, tolerating dead pids, in this
# order: the depotd nodes (in parallel: TERM, then KILL after 10 s); the
# Patroni members (in parallel: one stopped before the other would hand the
# leader lock to it; each fast-stops its own postmaster, up to 40 s); plain
# postmasters, newest first; any postmaster whose pid file is in DIR/pg but
# which is not stopped yet (up killed between pg_ctl and the record, a
# Patroni member killed -9 without its postgres); etcd last, once no Patroni
# member needs it. Fails when something could not be stopped.
cluster_stop_all() {
  local dir="$1" name pid rc=0 pidfile i
  local -a lines=() depotds=() members=() postmasters=() dcs=()
  if [[ -f "$dir/pids" ]]; then mapfile -t lines <"$dir/pids"; fi
  for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
    read -r name pid _ <<<"${lines[$i]}" || true
    [[ -n "${name:-}" && -n "${pid:-}" ]] || continue
    if ! cluster_pid_alive "$pid" "$dir"; then
      depot_log "$name (pid $pid) is not running"
      continue
    fi
    case "$name" in
      pg-*) postmasters+=("$name $pid") ;;
      patroni-*) members+=("$name $pid") ;;
      etcd) dcs+=("$name $pid") ;;
      *) depotds+=("$name $pid") ;;
    esac
  done
  cluster_stop_group 10 "${depotds[@]}" || rc=1
  cluster_stop_group 40 "${members[@]}" || rc=1
  for i in "${postmasters[@]}"; do
    read -r name pid <<<"$i"
    depot_log "stopping $name (pid $pid)"
    cluster_stop_pg "$pid" 30 || rc=1
  done
  for pidfile in "$dir"/pg/*/postmaster.pid; do
    [[ -f "$pidfile" ]] || continue
    pid="$(head -n 1 "$pidfile" 2>/dev/null || true)"
    if cluster_pid_alive "$pid" "$dir"; then
      depot_log "stopping unrecorded postgres (pid $pid, $(dirname "$pidfile"))"
      cluster_stop_pg "$pid" 30 || rc=1
    fi
  done
  cluster_stop_group 10 "${dcs[@]}" || rc=1
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
