#!/usr/bin/env bash
# CTest smoke for tests/bench/restart (not a timed assertion): a tiny data
# set, one restart; checks that it reports the restart with its RSS and
# that bad parameters exit 2. Usage: smoke_restart.sh RESTART_SCRIPT
set -euo pipefail
SCRIPT=${1:?tests/bench/restart path}
fail() { echo "FAIL: $*" >&2; exit 1; }
for bad in "--skus 0" "--locations x" "--restarts -1" "--nonsense"; do
  rc=0
  # shellcheck disable=SC2086
  "$SCRIPT" $bad >/dev/null 2>&1 || rc=$?
  [[ $rc == 2 ]] || fail "restart $bad exited $rc, expected 2"
done
out=$(timeout 120 "$SCRIPT" --skus 300 --locations 3 --restarts 1 2>&1) || fail "restart failed: $out"
grep -q "loaded 300 SKUs at 3 locations (900 balances)" <<<"$out" || fail "no load line: $out"
grep -Eq "^restart 1 .* serving after +[0-9.]+ s +RSS +[0-9.]+ MB \([0-9]+ bytes per balance\)" <<<"$out" \
  || fail "no restart line: $out"
echo "ok"
