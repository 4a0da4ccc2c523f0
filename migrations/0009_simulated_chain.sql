-- The simulated chain's own record of what the hot wallet sent (operational state of the
-- default `Chain`, like a node's mempool): one row per transaction, however often it was
-- broadcast.
CREATE TABLE simulated_chain_transactions
(
    txid           text PRIMARY KEY,
    from_address   text        NOT NULL,
    to_address     text        NOT NULL,
    asset          text        NOT NULL,
    amount         text        NOT NULL,
    broadcasts     integer     NOT NULL DEFAULT 1,
    first_seen_at  timestamptz NOT NULL DEFAULT now()
);
