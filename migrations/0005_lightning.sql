-- myLightning: browser sessions, the embedded node's identity, users' denominations.

ALTER TABLE users ADD COLUMN denomination text NOT NULL DEFAULT 'BTC';

-- Cookie sessions (operational state). Only the SHA-256 of the `connect.sid` cookie is kept;
-- `csrf` is the token every POST must carry as `_csrf`.
CREATE TABLE web_sessions
(
    token_sha256 text PRIMARY KEY,
    user_id      text        NOT NULL,
    csrf         text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now()
);

-- The embedded node: one row, created by the first server to start. The secret key never
-- leaves this table (a secret: not for analysts).
CREATE TABLE lightning_node
(
    singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    secret_key_hex text        NOT NULL,
    alias          text        NOT NULL,
    port           integer     NOT NULL,
    base_height    bigint      NOT NULL,
    genesis_at     timestamptz NOT NULL DEFAULT now()
);

-- Each user's quickpay address book (read model of `address_book` events).
CREATE TABLE quickpay_contacts
(
    owner         text        NOT NULL,
    alias         text        NOT NULL,
    payee_user    text,
    node_id       text        NOT NULL,
    last_tx_id    bigint      NOT NULL,
    last_position bigint      NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (owner, alias)
);

-- Channels (read model of `channel` events). Amounts in BTC.
CREATE TABLE channels
(
    channelpoint  text PRIMARY KEY,
    owner         text        NOT NULL,
    remote_node   text        NOT NULL,
    state         text        NOT NULL CHECK (state IN ('pending', 'active', 'closing', 'closed')),
    capacity      numeric     NOT NULL,
    balance       numeric     NOT NULL,
    last_tx_id    bigint      NOT NULL,
    last_position bigint      NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX channels_by_owner ON channels (owner);
CREATE INDEX channels_in_flight ON channels (state) WHERE state IN ('pending', 'closing');
