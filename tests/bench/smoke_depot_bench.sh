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
for bad in "--duration 0" "--rate -5" "--dist zipf:0" "--batch 10001" "--workload nonsense" \
  "--server-metrics nohostport" "--server-metrics 127.0.0.1:99999"; do
  rc=0
  # shellcheck disable=SC2086
  "$BIN/depot-bench" run --server 127.0.0.1:1 $bad >"$WORK/bad.txt" 2>&1 || rc=$?
  [[ $rc == 2 ]] || fail "depot-bench run $bad exited $rc, expected 2: $(cat "$WORK/bad.txt")"
  grep -q . "$WORK/bad.txt" || fail "no message for $bad"
done

PORT=$(depot_free_port 20000 32000)
MPORT=$(depot_free_port 20000 32000)
"$BIN/depotd" --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" --metrics-listen "127.0.0.1:$MPORT" \
  --log-level warn </dev/null >"$WORK/depotd.log" 2>&1 &
PID=$!
depot_wait_for_port 127.0.0.1 "$PORT" 20 "$PID" || fail "depotd did not start: $(tail -5 "$WORK/depotd.log")"
for bad in "--locations 0" "--locations 100" "--skus 0"; do
  rc=0
  # shellcheck disable=SC2086
  "$BIN/depot-bench" load --server "127.0.0.1:$PORT" $bad >"$WORK/bad.txt" 2>&1 || rc=$?
  [[ $rc == 2 ]] || fail "depot-bench load $bad exited $rc, expected 2: $(cat "$WORK/bad.txt")"
  grep -q . "$WORK/bad.txt" || fail "no message for load $bad"
done
timeout 60 "$BIN/depot-bench" load --server "127.0.0.1:$PORT" --skus 1000 --locations 3 \
  || fail "load failed"
# Every SKU is stocked at bench/A, bench/S02 and bench/S03.
stock=$("$BIN/depotctl" --server "127.0.0.1:$PORT" stock sku-0000999) \
  || fail "depotctl stock failed"
for loc in bench/A bench/S02 bench/S03; do
  grep -q "$loc" <<<"$stock" || fail "no stock at $loc after load --locations 3: $stock"
done

check_json() {
  local json=$1 tput
  tput=$(sed -n 's/.*"throughput_movements_s": *\([0-9.eE+]*\).*/\1/p' "$json")
  awk -v t="${tput:-0}" 'BEGIN { exit !(t > 0) }' || fail "zero throughput in $json"
  grep -q '"valid": true' "$json" || fail "run had errors: $json"
}

timeout 60 "$BIN/depot-bench" run --server "127.0.0.1:$PORT" --skus 1000 --workload ship \
  --in-flight 16 --duration 3 --warmup 0.5 --dist zipf:1.1 --server-pid "$PID" \
  --server-metrics "127.0.0.1:$MPORT" --json "$WORK/unary.json" || fail "unary run exited $?"
check_json "$WORK/unary.json"
# depotd's own latency of the calls it admitted was read from its /metrics.
grep -q '"server_latency_ms"' "$WORK/unary.json" || fail "no server_latency_ms in unary.json"
calls=$(sed -n 's/.*"calls": *\([0-9]*\).*/\1/p' "$WORK/unary.json" | head -n 1)
[[ ${calls:-0} -gt 0 ]] || fail "server_latency_ms counted no calls: $(cat "$WORK/unary.json")"
timeout 60 "$BIN/depot-bench" run --server "127.0.0.1:$PORT" --skus 1000 --workload mix \
  --path stream --in-flight 64 --duration 2 --warmup 0.5 --server-metrics "127.0.0.1:$MPORT" \
  --json "$WORK/stream.json" || fail "stream run exited $?"
check_json "$WORK/stream.json"
# depotd's group commits in the window, on both paths: some per second,
# each carrying at least one request.
for f in "$WORK/unary.json" "$WORK/stream.json"; do
  per_s=$(sed -n 's/.*"per_s": *\([0-9.eE+]*\).*/\1/p' "$f" | head -n 1)
  each=$(sed -n 's/.*"requests_each": *\([0-9.eE+]*\).*/\1/p' "$f" | head -n 1)
  awk -v p="${per_s:-0}" -v e="${each:-0}" 'BEGIN { exit !(p > 0 && e >= 1) }' ||
    fail "no server_commits in $f: $(cat "$f")"
done
echo "depot-bench smoke OK"
