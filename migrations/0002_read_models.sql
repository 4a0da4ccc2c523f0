-- Read models. Every table here is built only by a projector from the events, can be
-- dropped and rebuilt (`ledger replay`), and remembers per row the last event applied
-- (last_tx_id, last_position), so a replay or a retry never applies an event twice.
-- Money columns are numeric: exact, unbounded (system accounts sum whole histories).

-- Where each projector has read up to, in commit-safe order (tx_id, global_position).
CREATE TABLE projector_checkpoints
(
    projector     text PRIMARY KEY,
    last_tx_id    bigint      NOT NULL DEFAULT 0,
    last_position bigint      NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- One row per account, user and system (world:BTC, issuance:GDD, fees:JOY, transit:JUSD).
CREATE TABLE balances
(
    account_id    text PRIMARY KEY,
    asset         text        NOT NULL,
    is_system     boolean     NOT NULL,
    owner         text,
    purpose       text,
    amount        numeric     NOT NULL,           -- balance, in units of the asset (e.g. BTC)
    locked        numeric     NOT NULL,           -- sum of active holds
    available     numeric GENERATED ALWAYS AS (amount - locked) STORED,
    last_tx_id    bigint      NOT NULL,
    last_position bigint      NOT NULL,
    updated_at    timestamptz NOT NULL            -- recorded_at of the last event applied
);
CREATE INDEX balances_by_owner ON balances (owner, asset, account_id);
CREATE INDEX balances_by_asset ON balances (asset, account_id);

-- Every leg of every money movement. Per event the legs sum to zero.
CREATE TABLE postings
(
    global_position bigint      NOT NULL,         -- the event that caused the leg
    leg             smallint    NOT NULL,
    tx_id           bigint      NOT NULL,
    account_id      text        NOT NULL,
    asset           text        NOT NULL,
    amount          numeric     NOT NULL,         -- signed: positive credits the account
    event_type      text        NOT NULL,
    aggregate_id    text        NOT NULL,
    sequence        bigint      NOT NULL,
    reference       text,                         -- transfer id or hold id, when there is one
    recorded_at     timestamptz NOT NULL,
    PRIMARY KEY (global_position, leg)
);
CREATE INDEX postings_by_account ON postings (account_id, tx_id, global_position);

-- Holds (locked amounts) and what became of them.
CREATE TABLE holds
(
    account_id    text        NOT NULL,
    hold_id       text        NOT NULL,
    amount        numeric     NOT NULL,
    expires_at    timestamptz,
    memo          text,
    status        text        NOT NULL CHECK (status IN ('active', 'released', 'expired', 'captured')),
    last_tx_id    bigint      NOT NULL,
    last_position bigint      NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (account_id, hold_id)
);
CREATE INDEX holds_active_by_expiry ON holds (expires_at) WHERE status = 'active';

-- Assets and their fixed scales.
CREATE TABLE assets
(
    code          text PRIMARY KEY,
    scale         integer     NOT NULL,
    last_tx_id    bigint      NOT NULL,
    last_position bigint      NOT NULL,
    defined_at    timestamptz NOT NULL
);

-- Users, shared by every dialect. password_hash is argon2 (PHC string).
CREATE TABLE users
(
    user_id       text PRIMARY KEY,
    email         text        NOT NULL,
    username      text        NOT NULL,
    first_name    text,
    last_name     text,
    role          text,
    password_hash text        NOT NULL,
    last_tx_id    bigint      NOT NULL,
    last_position bigint      NOT NULL,
    created_at    timestamptz NOT NULL
);
CREATE INDEX users_by_email ON users (lower(email));
CREATE INDEX users_by_username ON users (lower(username));
