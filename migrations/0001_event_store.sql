-- The event store: postgres-es's `events` table, plus what it lacks for a ledger.
--
-- postgres-es inserts naming its seven columns, so every column added here has a default
-- and stays invisible to it.
--   global_position  unique, increasing in insertion (not commit) order.
--   tx_id            the appending transaction; readers use it to see the log in a
--                    commit-safe order: (tx_id, global_position), fenced below
--                    pg_snapshot_xmin(pg_current_snapshot()) so no event is ever skipped
--                    (DESIGN.md invariant 7; docs/adr/0002-commit-order.md).
--   recorded_at      when the appending transaction started.
CREATE TABLE events
(
    aggregate_type  text                         NOT NULL,
    aggregate_id    text                         NOT NULL,
    sequence        bigint CHECK (sequence >= 0) NOT NULL,
    event_type      text                         NOT NULL,
    event_version   text                         NOT NULL,
    payload         json                         NOT NULL,
    metadata        json                         NOT NULL,
    global_position bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    tx_id           xid8                         NOT NULL DEFAULT pg_current_xact_id(),
    recorded_at     timestamptz                  NOT NULL DEFAULT now(),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

-- Readers page through the log in commit-safe order.
CREATE INDEX events_commit_order ON events (tx_id, global_position);

-- Exactly once: a command's operation id (from the client's Idempotency-Key or a natural
-- key) may be appended only once, cluster-wide, atomically with the event itself. A second
-- append fails with a unique violation, which postgres-es reports as an aggregate conflict;
-- the service then finds the first append and replays its result.
CREATE UNIQUE INDEX events_operation_id ON events ((metadata ->> 'operation_id'))
    WHERE metadata ->> 'operation_id' IS NOT NULL;

-- Events are facts: the service never updates or deletes them.
CREATE FUNCTION events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are immutable: % is not allowed', TG_OP;
END;
$$;
CREATE TRIGGER events_no_update_or_delete BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_immutable();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_immutable();
