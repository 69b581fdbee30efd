-- Availability of one SKU.
\if :zipf
\set sku random_zipfian(:sku_lo, :sku_hi, :zipf_s)
\else
\set sku random(:sku_lo, :sku_hi)
\endif
SELECT on_hand, reserved FROM stock WHERE sku = :sku::bigint;
