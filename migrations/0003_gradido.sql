-- Gradido: users' keys and groups, groups, Gradido transactions (read models), and login
-- sessions (operational state, not a read model: not rebuilt from events, lost on purpose
-- when they expire).

ALTER TABLE users ADD COLUMN public_hex text;
ALTER TABLE users ADD COLUMN group_alias text;
CREATE INDEX users_by_public_hex ON users (public_hex);

CREATE TABLE groups
(
    alias         text PRIMARY KEY,
    name          text        NOT NULL,
    description   text,
    last_tx_id    bigint      NOT NULL,
    last_position bigint      NOT NULL,
    created_at    timestamptz NOT NULL
);

-- One row per Gradido transaction; amounts in GDD (4 decimals), not GDD-cent.
CREATE TABLE gradido_transactions
(
    transaction_id text PRIMARY KEY,
    kind           text        NOT NULL CHECK (kind IN ('transfer', 'creation')),
    initiator      text        NOT NULL,          -- user id of the session that created it
    recipient      text        NOT NULL,          -- user id
    from_account   text,
    to_account     text        NOT NULL,
    amount         numeric     NOT NULL,
    target_date    date,
    memo           text        NOT NULL,
    status         text        NOT NULL CHECK (status IN ('pending', 'executing', 'confirmed', 'rejected', 'cancelled')),
    reason         text,
    last_tx_id     bigint      NOT NULL,
    last_position  bigint      NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX gradido_transactions_by_initiator ON gradido_transactions (initiator, status);
CREATE INDEX gradido_transactions_by_recipient ON gradido_transactions (recipient, created_at);

-- Login sessions of every dialect. Gradido names them by a positive 32-bit integer.
CREATE TABLE sessions
(
    session_id   bigint PRIMARY KEY,
    dialect      text        NOT NULL,
    user_id      text        NOT NULL,
    client_ip    text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_by_last_use ON sessions (last_used_at);
