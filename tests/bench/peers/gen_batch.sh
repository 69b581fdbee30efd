#!/usr/bin/env bash
# Prints a pgbench script with N reservations in ONE transaction and ONE
# statement (unnest()ed arrays): what a batching front end would send.
# Rows are locked in SKU order (no deadlocks between batches); per SKU the
# requests are accepted in order while their running sum fits.
# Usage: gen_batch.sh N zipf|uniform
set -euo pipefail
n=${1:?batch size}
case ${2:?zipf|uniform} in
  zipf) pick='random_zipfian(:sku_lo, :sku_hi, :zipf_s)' ;;
  uniform) pick='random(:sku_lo, :sku_hi)' ;;
  *) echo "gen_batch.sh: unknown distribution $2" >&2; exit 2 ;;
esac
skus=""
for ((i = 1; i <= n; i++)); do
  echo "\\set s$i $pick"
  skus+="${skus:+,}:s$i"
done
cat <<SQL
WITH req AS MATERIALIZED (
    SELECT r.sku, 1::bigint AS q, r.ord
      FROM unnest(ARRAY[$skus]::bigint[]) WITH ORDINALITY AS r(sku, ord)
), locked AS MATERIALIZED (
    SELECT s.sku, s.on_hand - s.reserved AS avail FROM stock s
     WHERE s.location = 1 AND s.sku IN (SELECT sku FROM req)
     ORDER BY s.sku FOR UPDATE
), ok AS MATERIALIZED (
    SELECT x.sku, x.q FROM (
        SELECT req.sku, req.q, l.avail,
               sum(req.q) OVER (PARTITION BY req.sku ORDER BY req.ord) AS cum
          FROM req JOIN locked l USING (sku)) x
     WHERE x.cum <= x.avail
), upd AS (
    UPDATE stock s SET reserved = s.reserved + t.q
      FROM (SELECT sku, sum(q) AS q FROM ok GROUP BY sku) t
     WHERE s.sku = t.sku AND s.location = 1
    RETURNING s.sku)
INSERT INTO movements (sku, location, delta, kind, request_id)
SELECT sku, 1, q, 'reserve', gen_random_uuid() FROM ok;
SQL
