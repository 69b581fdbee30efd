#!/usr/bin/env bash
# CTest smoke for depot-bench (not a timed assertion): starts depotd on a
# temp data dir, loads a small data set, runs depot-bench for ~3 s on the
# unary and the stream path and checks exit 0 and a non-zero throughput in
# the JSON; also checks that nonsense parameters exit 2. Usage:
#   smoke_depot_bench.sh BIN_DIR
set -euo pipefail
BIN=${1:?bin dir}
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../../packaging/lib/common.sh"
WORK=$(mktemp -d /tmp/depot-bench-smoke.XXXXXX)
PID=""
cleanup() {
  set +e
  [[ -n "$PID" ]] && depot_stop_pid "$PID" 10
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# Bad parameters: exit 2 with a message.
for bad in "--duration 0" "--rate -5" "--dist zipf:0" "--batch 10001" "--workload nonsense"; do
  rc=0
  # shellcheck disable=SC2086
  "$BIN/depot-bench" run --server 127.0.0.1:1 $bad >"$WORK/bad.txt" 2>&1 || rc=$?
  [[ $rc == 2 ]] || fail "depot-bench run $bad exited $rc, expected 2: $(cat "$WORK/bad.txt")"
  grep -q . "$WORK/bad.txt" || fail "no message for $bad"
done

PORT=$(depot_free_port 20000 32000)
"$BIN/depotd" --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" --metrics-listen off \
  --log-level warn </dev/null >"$WORK/depotd.log" 2>&1 &
PID=$!
depot_wait_for_port 127.0.0.1 "$PORT" 20 "$PID" || fail "depotd did not start: $(tail -5 "$WORK/depotd.log")"
timeout 60 "$BIN/depot-bench" load --server "127.0.0.1:$PORT" --skus 1000 || fail "load failed"

check_json() {
  local json=$1 tput
  tput=$(sed -n 's/.*"throughput_movements_s": *\([0-9.eE+]*\).*/\1/p' "$json")
  awk -v t="${tput:-0}" 'BEGIN { exit !(t > 0) }' || fail "zero throughput in $json"
  grep -q '"valid": true' "$json" || fail "run had errors: $json"
}

timeout 60 "$BIN/depot-bench" run --server "127.0.0.1:$PORT" --skus 1000 --workload ship \
  --in-flight 16 --duration 3 --warmup 0.5 --dist zipf:1.1 --server-pid "$PID" \
  --json "$WORK/unary.json" || fail "unary run exited $?"
check_json "$WORK/unary.json"
timeout 60 "$BIN/depot-bench" run --server "127.0.0.1:$PORT" --skus 1000 --workload mix \
  --path stream --in-flight 64 --duration 2 --warmup 0.5 --json "$WORK/stream.json" ||
  fail "stream run exited $?"
check_json "$WORK/stream.json"
echo "depot-bench smoke OK"
