-- The analysts' stable interface: views in schema `analyst` (documented column by column in
-- docs/read-models.md). Read tables may change shape; these views keep their columns and
-- meanings, and gain columns only at the end. No view exposes a secret: no password or
-- API-key hashes, no sessions, codes, TOTP or node secrets, no raw events (their payloads
-- carry password hashes).
--
-- Role `ledger_analyst` may read these views and nothing else. Roles are cluster-wide, so it
-- is created once; a migrating user without CREATEROLE skips it (and the grants) with a
-- notice. `ledger admin analyst-url` gives it a fresh password and prints a URL.

CREATE SCHEMA analyst;

CREATE VIEW analyst.balances AS
SELECT account_id, asset, is_system, owner, purpose, amount, locked, available, updated_at
FROM public.balances;

CREATE VIEW analyst.postings AS
SELECT global_position, leg, account_id, asset, amount, event_type, aggregate_id, sequence, reference, recorded_at
FROM public.postings;

CREATE VIEW analyst.holds AS
SELECT account_id, hold_id, amount, expires_at, memo, status, updated_at
FROM public.holds;

CREATE VIEW analyst.assets AS
SELECT code, scale, defined_at
FROM public.assets;

CREATE VIEW analyst.users AS
SELECT user_id, email, username, first_name, last_name, role, group_alias, disabled, email_checked, language, created_at
FROM public.users;

CREATE VIEW analyst.groups AS
SELECT alias, name, description, created_at
FROM public.groups;

CREATE VIEW analyst.gradido_transactions AS
SELECT transaction_id, kind, initiator, recipient, from_account, to_account, amount, target_date, memo, status, reason,
       created_at, updated_at
FROM public.gradido_transactions;

-- What Gradido's login shows: per user, transactions waiting for a signature or the network.
CREATE VIEW analyst.gradido_open_counts AS
SELECT initiator AS user_id,
       count(*) FILTER (WHERE status = 'pending')   AS pending,
       count(*) FILTER (WHERE status = 'executing') AS executing
FROM public.gradido_transactions
WHERE status IN ('pending', 'executing')
GROUP BY initiator;

CREATE VIEW analyst.quickpay_contacts AS
SELECT owner, alias, payee_user, node_id, updated_at
FROM public.quickpay_contacts;

CREATE VIEW analyst.channels AS
SELECT channelpoint, owner, remote_node, state, capacity, balance, updated_at
FROM public.channels;

CREATE VIEW analyst.joy_wallets AS
SELECT wallet_id, user_id, open_id, email, first_name, last_name, mobile, address, created_at
FROM public.joy_wallets;

CREATE VIEW analyst.joy_assets AS
SELECT asset_id, code, name, decimals, contract_address, usd_price, icon_url, created_at
FROM public.joy_assets;

CREATE VIEW analyst.joy_balances AS
SELECT jb.balance_id, jb.user_id, w.address, jb.asset, coalesce(b.amount, 0) AS amount, coalesce(b.locked, 0) AS locked,
       jb.account_id, jb.created_at
FROM public.joy_balances jb
JOIN public.joy_wallets w ON w.user_id = jb.user_id
LEFT JOIN public.balances b ON b.account_id = jb.account_id;

CREATE VIEW analyst.joy_locked_balances AS
SELECT locked_balance_id, balance_id, account_id, amount, expires_at, processed, created_at
FROM public.joy_locked_balances;

CREATE VIEW analyst.joy_chain_transfers AS
SELECT transfer_id, direction, txid, from_address, to_address, asset, amount, balance_id, account_id, created_at
FROM public.joy_chain_transfers;

-- Money in and out of the ledger per asset and day (UTC): deposits credit user accounts
-- from `world`, withdrawals debit them to `world`; creations come from `issuance`.
CREATE VIEW analyst.daily_flows AS
SELECT (recorded_at AT TIME ZONE 'UTC')::date AS day,
       asset,
       sum(-amount) FILTER (WHERE account_id LIKE 'world:%' AND amount < 0)    AS deposited,
       sum(amount) FILTER (WHERE account_id LIKE 'world:%' AND amount > 0)     AS withdrawn,
       sum(-amount) FILTER (WHERE account_id LIKE 'issuance:%' AND amount < 0) AS created,
       sum(amount) FILTER (WHERE account_id LIKE 'fees:%' AND amount > 0)      AS fees,
       count(DISTINCT global_position)                                         AS events
FROM public.postings
GROUP BY 1, 2;

-- The hash chain's links (hashes only): auditors can compare heads without raw events.
CREATE VIEW analyst.event_chain AS
SELECT chain_index, global_position, encode(event_hash, 'hex') AS event_hash, encode(chain_hash, 'hex') AS chain_hash, sealed_at
FROM public.event_chain;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ledger_analyst') THEN
        BEGIN
            CREATE ROLE ledger_analyst LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION CONNECTION LIMIT 10;
            ALTER ROLE ledger_analyst SET default_transaction_read_only = on;
            ALTER ROLE ledger_analyst SET statement_timeout = '60s';
        EXCEPTION
            WHEN insufficient_privilege THEN
                RAISE NOTICE 'cannot create role ledger_analyst (needs CREATEROLE); analysts get no role';
            -- Another database of the cluster migrating at the same moment created it.
            WHEN duplicate_object OR unique_violation THEN
                NULL;
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ledger_analyst') THEN
        EXECUTE 'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ledger_analyst';
        EXECUTE 'REVOKE CREATE ON SCHEMA public FROM ledger_analyst';
        EXECUTE 'GRANT USAGE ON SCHEMA analyst TO ledger_analyst';
        EXECUTE 'GRANT SELECT ON ALL TABLES IN SCHEMA analyst TO ledger_analyst';
    END IF;
END;
$$;
