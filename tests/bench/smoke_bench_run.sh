#!/usr/bin/env bash
# CTest smoke for tests/bench/run --quick (not a timed assertion): runs the
# whole side-by-side suite once and checks that it produced its table and
# that the main Depot and echo rows ran without errors and moved something.
# The peers and the Depot-on-PostgreSQL rows need root; they are checked
# when they ran. Usage: smoke_bench_run.sh RUN_SCRIPT
set -euo pipefail
RUN=${1:?tests/bench/run}
OUT=$(mktemp -d /tmp/depot-bench-run-smoke.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

BENCH_OUT="$OUT" timeout 380 "$RUN" --quick || fail "tests/bench/run --quick exited $?"
[[ -s "$OUT/table.md" ]] || fail "no table.md"
grep -q '^| workload | system | movements/s | p99 ms | Depot/peer | Depot/echo |' "$OUT/table.md" ||
  fail "table.md has no header row"

# row WORKLOAD SYSTEM: the row exists, has a throughput > 0 and no errors.
row() {
  awk -F'\t' -v w="$1" -v s="$2" '
    $1 == w && $2 == s { found = 1; if ($3 + 0 > 0 && $5 + 0 == 0) ok = 1 }
    END { exit !(found && ok) }' "$OUT/results.tsv" ||
    fail "row $1/$2 missing, zero or with errors: $(grep -P "^$1\t$2\t" "$OUT/results.tsv" || true)"
}
for w in reserve_unary ship_unary ship_stream ship_batch1000; do row "$w" echo; done
for w in reserve_unary ship_unary ship_stream ship_batch1000 ship_batch1000_hot reads_unary \
  open36k_batch100 watch50; do
  row "$w" depot
done
if [[ $(id -u) == 0 ]]; then
  for w in reserve_unary ship_batch1000; do row "$w" depot-pg; row "$w" postgresql; done
  row ship_stream redis
fi
echo "tests/bench/run --quick smoke OK"
