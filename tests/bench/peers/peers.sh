# shellcheck shell=bash
# PostgreSQL and Redis peers for tests/bench/run (sourced). Functions only.
# Needs: WORK (scratch dir), NSKUS, ZIPF_S, PEER_DURATION, bench_log,
# bench_result (see run). Servers listen on 127.0.0.1 only, ports < 32768,
# and are stopped by pid (peer_stop_all).

PEERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PG_PID=""
REDIS_PID=""

pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
pg_sql() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres "$@"; }

# pg_start: initdb in $WORK/pg (as user postgres), durable defaults.
pg_start() {
  local bin dir="$WORK/pg"
  bin="$(pg_bindir)"
  [[ -x "$bin/postgres" ]] || { bench_log "PostgreSQL binaries not found"; return 1; }
  PG_PORT="$(depot_free_port 20000 32000)"
  mkdir -p "$dir" && chown postgres: "$dir"
  runuser -u postgres -- "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  # fsync, synchronous_commit and full_page_writes stay at their durable
  # defaults; big WAL so no checkpoint lands in a short run.
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = ''
shared_buffers = '1GB'
max_wal_size = '4GB'
min_wal_size = '1GB'
checkpoint_timeout = '15min'
fsync = on
synchronous_commit = on
full_page_writes = on
CONF
  runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
    { tail -n 20 "$dir/server.log" >&2; return 1; }
  PG_PID="$(head -n 1 "$dir/data/postmaster.pid")"
  bench_log "postgres pid $PG_PID on 127.0.0.1:$PG_PORT"
  pg_sql -v nskus="$NSKUS" -v on_hand=1000000000 -f "$PEERS_DIR/schema.sql" >/dev/null 2>&1
  bash "$PEERS_DIR/gen_batch.sh" 100 uniform >"$dir/batch_uniform.sql"
}

pg_stop() {
  [[ -n "$PG_PID" ]] || return 0
  kill -INT "$PG_PID" 2>/dev/null || true # fast shutdown
  local i
  for ((i = 0; i < 300; i++)); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$PG_PID" 2>/dev/null && kill -KILL "$PG_PID" 2>/dev/null
  bench_log "postgres pid $PG_PID stopped"
  PG_PID=""
}

# pg_case NAME SCRIPT DIST CLIENTS ITEMS [SKU_HI]: one pgbench run; adds a
# result row (system postgresql). p99 from pgbench's per-transaction log.
pg_case() {
  local name=$1 script=$2 dist=$3 clients=$4 items=$5 hi=${6:-$NSKUS}
  local zipf=0 out="$WORK/pg/$name.out" logs="$WORK/pg/log_$name"
  [[ $dist == zipf ]] && zipf=1
  local threads=$((clients < $(nproc) ? clients : $(nproc)))
  pg_sql -c "VACUUM stock" -c "CHECKPOINT" >/dev/null
  local cmd=(pgbench -h 127.0.0.1 -p "$PG_PORT" -U postgres -n -M prepared -c "$clients" -j "$threads"
    -T "$PEER_DURATION" -D zipf="$zipf" -D zipf_s="$ZIPF_S" -D sku_lo=1 -D sku_hi="$hi"
    -l --log-prefix="$logs" -f "$script" postgres)
  echo "${cmd[*]}" >>"$WORK/commands.txt"
  local rc=0
  "${cmd[@]}" >"$out" 2>&1 || rc=$?
  local tps p99 failed
  tps=$(awk '/^tps = /{print $3; exit}' "$out")
  failed=$(awk '/^number of failed transactions/{print $5; exit}' "$out")
  p99=$(cat "$logs".* 2>/dev/null | awk '{print $3}' | sort -n |
    awk '{a[NR]=$1} END{if(NR==0){print "NA"; exit} k=int(0.99*NR); if(k<0.99*NR)k++; if(k<1)k=1; printf "%.2f", a[k]/1000}')
  rm -f "$logs".*
  local errs=$(( ${failed:-0} + (rc != 0 ? 1 : 0) ))
  bench_result "$name" postgresql "$(awk -v t="${tps:-0}" -v k="$items" 'BEGIN{printf "%.0f", t*k}')" "$p99" "$errs" \
    "pgbench -c $clients, $items/txn"
}

redis_start() {
  local dir="$WORK/redis"
  mkdir -p "$dir"
  REDIS_PORT="$(depot_free_port 20000 32000)"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --protected-mode yes --dir "$dir" \
    --daemonize no --logfile "$dir/redis.log" --save '' \
    --appendonly yes --appendfsync always --auto-aof-rewrite-percentage 0 </dev/null >/dev/null 2>&1 &
  REDIS_PID=$!
  local i
  for ((i = 0; i < 100; i++)); do
    [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]] && break
    kill -0 "$REDIS_PID" 2>/dev/null || { bench_log "redis-server exited"; return 1; }
    sleep 0.1
  done
  bench_log "redis pid $REDIS_PID on 127.0.0.1:$REDIS_PORT (appendfsync always)"
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --eval "$PEERS_DIR/load.lua" movements , "$NSKUS" 1000000000 >/dev/null
  REDIS_SHA="$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" SCRIPT LOAD "$(cat "$PEERS_DIR/reserve.lua")")"
}

redis_stop() {
  [[ -n "$REDIS_PID" ]] || return 0
  depot_stop_pid "$REDIS_PID" 10
  bench_log "redis pid $REDIS_PID stopped"
  REDIS_PID=""
}

# redis_case NAME PIPELINE: 32 clients, uniform keys (redis-benchmark cannot
# draw Zipf); -n sized from a short calibration run to last PEER_DURATION s.
redis_case() {
  local name=$1 p=$2 out="$WORK/redis/$1.csv" rps n
  local base=(redis-benchmark -h 127.0.0.1 -p "$REDIS_PORT" -c 32 -P "$p" -r "$NSKUS" --csv)
  local args=(EVALSHA "$REDIS_SHA" 2 'stock:__rand_int__' movements 1)
  rps=$("${base[@]}" -n $((2000 * p)) "${args[@]}" 2>/dev/null | awk -F'","' 'NR==2{print $2}')
  n=$(awk -v r="${rps:-1000}" -v d="$PEER_DURATION" -v p="$p" 'BEGIN{n=int(r*d/p)*p; if(n<100*p)n=100*p; print n}')
  echo "${base[*]} -n $n ${args[*]}" >>"$WORK/commands.txt"
  local rc=0
  "${base[@]}" -n "$n" "${args[@]}" >"$out" 2>"$out.err" || rc=$?
  local p99 errs=0
  read -r rps p99 < <(awk -F'","' 'NR==2{gsub(/"/,"",$8); print $2, $7}' "$out")
  if [[ $rc != 0 || -z "${rps:-}" ]] || grep -qi error "$out" "$out.err"; then errs=1; fi
  bench_result "$name" redis "$(printf '%.0f' "${rps:-0}")" "${p99:-NA}" "$errs" \
    "redis-benchmark -c 32 -P $p, Lua, AOF always"
}

peer_stop_all() {
  pg_stop
  redis_stop
}
