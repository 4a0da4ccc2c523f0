-- Tamper evidence (docs/adr/0013-hash-chain.md).
--
-- 1. At append time each event gets `event_hash`: SHA-256 of its content, computed by a
--    trigger inside the appending transaction, so appends stay fully concurrent. Fields are
--    length-prefixed (`<bytes>:<text>;`) so no two contents encode alike:
--      ledger-event-v1; aggregate_type; aggregate_id; sequence; event_type; event_version;
--      payload (exact JSON text); metadata (exact JSON text); recorded_at (UTC, microseconds,
--      `YYYY-MM-DDTHH:MM:SS.ffffffZ`).
-- 2. The `event_chain` sealer (one per cluster, like a projector) links the events in commit
--    order, the order readers see: chain_hash = SHA-256(previous chain_hash (32 zero bytes
--    first) || global_position as 8 bytes big-endian || event_hash). Sealing never waits for
--    appends and appends never wait for it.

CREATE FUNCTION event_content_hash(aggregate_type text, aggregate_id text, sequence bigint, event_type text,
                                   event_version text, payload text, metadata text, recorded_at timestamptz)
    RETURNS bytea LANGUAGE sql STABLE AS $$
    SELECT sha256(convert_to(
        (SELECT string_agg(octet_length(field) || ':' || field || ';', '' ORDER BY ordinality)
         FROM unnest(ARRAY[
             'ledger-event-v1', aggregate_type, aggregate_id, sequence::text, event_type, event_version,
             payload, metadata, to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
         ]) WITH ORDINALITY AS fields(field, ordinality)),
        'UTF8'))
$$;

ALTER TABLE events ADD COLUMN event_hash bytea;

CREATE FUNCTION events_hash_content() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.event_hash := event_content_hash(NEW.aggregate_type, NEW.aggregate_id, NEW.sequence, NEW.event_type,
                                         NEW.event_version, NEW.payload::text, NEW.metadata::text, NEW.recorded_at);
    RETURN NEW;
END;
$$;
CREATE TRIGGER events_hash_on_insert BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_hash_content();

-- Events appended before this migration get their hash now (the only update ever made).
ALTER TABLE events DISABLE TRIGGER events_no_update_or_delete;
UPDATE events SET event_hash = event_content_hash(aggregate_type, aggregate_id, sequence, event_type, event_version,
                                                  payload::text, metadata::text, recorded_at);
ALTER TABLE events ENABLE TRIGGER events_no_update_or_delete;
ALTER TABLE events ALTER COLUMN event_hash SET NOT NULL;

-- The chain, in commit order. Append-only, like the events.
CREATE TABLE event_chain
(
    chain_index     bigint PRIMARY KEY,            -- 1, 2, 3, ... in commit order
    global_position bigint      NOT NULL UNIQUE,
    event_hash      bytea       NOT NULL,          -- the event's content hash, as sealed
    chain_hash      bytea       NOT NULL,
    sealed_at       timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER event_chain_no_update_or_delete BEFORE UPDATE OR DELETE ON event_chain
    FOR EACH ROW EXECUTE FUNCTION events_are_immutable();
CREATE TRIGGER event_chain_no_truncate BEFORE TRUNCATE ON event_chain
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_immutable();
