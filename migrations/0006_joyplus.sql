-- Joy Plus: wallets with Ethereum-style addresses, API keys, listed assets, balances with
-- locked amounts, chain deposits and withdrawals (read models of the `joy_plus` projector),
-- plus the operational state of sign-on, SMS and TOTP verification.
--
-- Public numeric ids (the seed's user, wallet, balance, locked balance, asset, deposit and
-- withdraw ids) are the global position of the event that created the row: unique, stable
-- across rebuilds, and needing no counter in the write path.

ALTER TABLE users ADD COLUMN mobile text;

-- One row per user who signed on to Joy Plus. The user id and the wallet id are the same.
CREATE TABLE joy_wallets
(
    wallet_id     bigint PRIMARY KEY,              -- position of JoyWalletCreated
    user_id       text        NOT NULL UNIQUE,     -- the ledger's user id (users.user_id)
    open_id       text        NOT NULL,            -- Passport's id for the user
    email         text        NOT NULL,
    first_name    text,
    last_name     text,
    mobile        text,
    address       text        NOT NULL,            -- EIP-55 checksummed deposit address
    address_lower text        NOT NULL UNIQUE,     -- the same, lower case, for lookups
    last_tx_id    bigint      NOT NULL,
    last_position bigint      NOT NULL,
    created_at    timestamptz NOT NULL
);

-- API keys: only the SHA-256 of each key (a secret: not for analysts).
CREATE TABLE joy_api_keys
(
    email         text PRIMARY KEY,                -- lower case
    key_sha256    text        NOT NULL UNIQUE,
    scopes        text[]      NOT NULL,
    last_tx_id    bigint      NOT NULL,
    last_position bigint      NOT NULL,
    issued_at     timestamptz NOT NULL
);

-- Assets listed in the wallet.
CREATE TABLE joy_assets
(
    asset_id         bigint PRIMARY KEY,           -- position of AssetListed
    code             text        NOT NULL UNIQUE,  -- the symbol, e.g. JOY
    name             text        NOT NULL,
    decimals         integer     NOT NULL,
    contract_address text        NOT NULL,         -- EIP-55
    usd_price        numeric     NOT NULL,         -- US dollars per whole token
    icon_url         text        NOT NULL,
    last_tx_id       bigint      NOT NULL,
    last_position    bigint      NOT NULL,
    created_at       timestamptz NOT NULL
);

-- Which ledger account is which user's balance of which asset. Amounts live in `balances`.
CREATE TABLE joy_balances
(
    balance_id    bigint PRIMARY KEY,              -- position of AccountOpened
    account_id    text        NOT NULL UNIQUE,
    user_id       text        NOT NULL,
    asset         text        NOT NULL,
    last_tx_id    bigint      NOT NULL,
    last_position bigint      NOT NULL,
    created_at    timestamptz NOT NULL
);
CREATE INDEX joy_balances_by_user ON joy_balances (user_id, asset);

-- Locked balances: holds on Joy Plus balances. processed = 1 once released (at expiry or
-- otherwise) or captured.
CREATE TABLE joy_locked_balances
(
    locked_balance_id bigint PRIMARY KEY,          -- position of FundsHeld
    balance_id        bigint      NOT NULL,
    account_id        text        NOT NULL,
    hold_id           text        NOT NULL,
    amount            numeric     NOT NULL,        -- in whole tokens, at the asset's scale
    expires_at        timestamptz,
    processed         smallint    NOT NULL CHECK (processed IN (0, 1)),
    last_tx_id        bigint      NOT NULL,
    last_position     bigint      NOT NULL,
    created_at        timestamptz NOT NULL,
    UNIQUE (account_id, hold_id)
);
CREATE INDEX joy_locked_balances_by_balance ON joy_locked_balances (balance_id);

-- Chain deposits and withdrawals of Joy Plus balances.
CREATE TABLE joy_chain_transfers
(
    transfer_id   bigint PRIMARY KEY,              -- position of the event
    direction     text        NOT NULL CHECK (direction IN ('deposit', 'withdraw')),
    txid          text        NOT NULL,
    from_address  text        NOT NULL,            -- lower case
    to_address    text        NOT NULL,            -- lower case
    asset         text        NOT NULL,
    amount        numeric     NOT NULL,            -- in whole tokens, at the asset's scale
    balance_id    bigint      NOT NULL,
    account_id    text        NOT NULL,
    last_tx_id    bigint      NOT NULL,
    last_position bigint      NOT NULL,
    created_at    timestamptz NOT NULL
);
CREATE INDEX joy_chain_transfers_by_txid ON joy_chain_transfers (txid);
CREATE INDEX joy_chain_transfers_by_from ON joy_chain_transfers (from_address, transfer_id);
CREATE INDEX joy_chain_transfers_by_to ON joy_chain_transfers (to_address, transfer_id);

-- Operational state below: not events, not read models, never rebuilt. Secrets: not for
-- analysts.

-- One-time codes the embedded Passport hands out after a login; redeemed by sso.html.
CREATE TABLE passport_codes
(
    code_sha256 text PRIMARY KEY,
    user_id     text        NOT NULL,
    expires_at  timestamptz NOT NULL
);

-- Joy Plus cookie sessions (`joy.sid`); only the cookie's SHA-256 is kept.
CREATE TABLE joy_sessions
(
    token_sha256 text PRIMARY KEY,
    user_id      text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now()
);

-- The SMS verification code a user may confirm now (one at a time).
CREATE TABLE joy_sms_codes
(
    user_id     text PRIMARY KEY,
    code_sha256 text        NOT NULL,
    attempts    integer     NOT NULL DEFAULT 0,
    expires_at  timestamptz NOT NULL
);

-- Tickets proving a confirmed SMS code.
CREATE TABLE joy_sms_tickets
(
    ticket_sha256 text PRIMARY KEY,
    user_id       text        NOT NULL,
    expires_at    timestamptz NOT NULL
);

-- Text messages to send (the default SMS sender writes here; a gateway relays them).
CREATE TABLE sms_outbox
(
    id         bigserial PRIMARY KEY,
    mobile     text        NOT NULL,
    body       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Google Authenticator (RFC 6238 TOTP): the registered secret, a pending one between
-- google/request and google/register, and failed attempts in the current window.
CREATE TABLE joy_totp
(
    user_id            text PRIMARY KEY,
    secret             text,                      -- base32; set once registered
    pending_secret     text,
    last_used_step     bigint      NOT NULL DEFAULT 0, -- a code is accepted once (no replay)
    failed_attempts    integer     NOT NULL DEFAULT 0,
    window_started_at  timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
