-- The embedded node's chain remembers the block interval its height was counted with, so
-- a server started with another interval carries the height on from where it stood
-- instead of recounting the whole history at the new pace (600 s was the fixed interval).
ALTER TABLE lightning_node ADD COLUMN block_interval_ms bigint NOT NULL DEFAULT 600000;

-- Each wallet user's own Lightning node identity (a key derived from the embedded node's),
-- so an address book, a quickpay and another node's `requestinvoice` can name a user by
-- node key, as the original server's one-node-per-user did. Operational state: written
-- when the user's wallet is first used, derived again any time.
CREATE TABLE lightning_identities
(
    node_pubkey text PRIMARY KEY,
    user_id     text NOT NULL UNIQUE
);

-- Where a contact's node takes invoice requests (`server`) and channels (`channel_server`).
ALTER TABLE quickpay_contacts ADD COLUMN server text;
ALTER TABLE quickpay_contacts ADD COLUMN channel_server text;
CREATE INDEX quickpay_contacts_by_node ON quickpay_contacts (owner, node_id);

-- The block height at which a channel entered its state: the wallet shows how many blocks
-- it still waits. Filled for existing channels from their last event.
ALTER TABLE channels ADD COLUMN state_height bigint NOT NULL DEFAULT 0;
UPDATE channels SET state_height = coalesce((
    SELECT coalesce(e.payload -> 'ChannelOpened' ->> 'height', e.payload -> 'ChannelActivated' ->> 'height',
                    e.payload -> 'ChannelClosing' ->> 'height', e.payload -> 'ChannelClosed' ->> 'height')::bigint
    FROM events e
    WHERE e.aggregate_type = 'channel' AND e.aggregate_id = channels.channelpoint
    ORDER BY e.sequence DESC
    LIMIT 1), 0);

-- A user who never chose a unit sees satoshis, as the original server showed amounts
-- (its rate defaulted to one per satoshi): the client shows two decimals, and small
-- payments read 0.00 in BTC. Users who chose one keep it.
ALTER TABLE users ALTER COLUMN denomination SET DEFAULT 'sat';
UPDATE users SET denomination = 'sat'
WHERE NOT EXISTS (SELECT 1 FROM events e
                  WHERE e.aggregate_type = 'user' AND e.aggregate_id = users.user_id
                    AND e.event_type = 'UserDenominationChanged');
