-- One reservation = one autocommit statement = one durable commit: a
-- conditional update (never oversells) plus a ledger row with a fresh
-- request id when it matched. pgbench -D: zipf (0/1), zipf_s, sku_lo, sku_hi.
\if :zipf
\set sku random_zipfian(:sku_lo, :sku_hi, :zipf_s)
\else
\set sku random(:sku_lo, :sku_hi)
\endif
WITH u AS (
    UPDATE stock SET reserved = reserved + 1
     WHERE sku = :sku::bigint AND location = 1 AND on_hand - reserved >= 1
    RETURNING sku, location)
INSERT INTO movements (sku, location, delta, kind, request_id)
SELECT sku, location, 1, 'reserve', gen_random_uuid() FROM u;
