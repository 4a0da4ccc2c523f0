-- Snapshots: an aggregate's state after the event at `sequence`, so a cold load applies only
-- the events after it. A cache, never the truth: `ledger audit` checks each against the
-- events, `ledger snapshots --rebuild` recreates them, and a row whose `state_version` is not
-- the code's current one for its type is ignored. One row per aggregate: the newest.
CREATE TABLE aggregate_snapshots
(
    aggregate_type text        NOT NULL,
    aggregate_id   text        NOT NULL,
    sequence       bigint      NOT NULL CHECK (sequence > 0),
    state_version  integer     NOT NULL,
    state          jsonb       NOT NULL,
    taken_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (aggregate_type, aggregate_id)
);
