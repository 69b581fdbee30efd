-- Depot bench peer: the inventory data set in PostgreSQL.
-- psql variables: nskus, on_hand. One location (1) per SKU, SKUs 1..nskus.
\set ON_ERROR_STOP on
DROP TABLE IF EXISTS movements;
DROP TABLE IF EXISTS stock;
-- fillfactor 90: room on each page for HOT updates of `reserved`.
CREATE TABLE stock (
    sku      bigint NOT NULL,
    location int    NOT NULL,
    on_hand  bigint NOT NULL,
    reserved bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (sku, location)
) WITH (fillfactor = 90);
-- The ledger; request_id is the idempotency key (a unique b-tree insert).
CREATE TABLE movements (
    id         bigserial   PRIMARY KEY,
    sku        bigint      NOT NULL,
    location   int         NOT NULL,
    delta      bigint      NOT NULL,
    kind       text        NOT NULL,
    request_id uuid        NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO stock SELECT g, 1, :on_hand, 0 FROM generate_series(1, :nskus) g;
VACUUM (ANALYZE) stock;
VACUUM (ANALYZE) movements;
