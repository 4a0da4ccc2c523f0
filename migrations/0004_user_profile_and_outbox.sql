-- Users: the disabled and e-mail-verified flags, profile fields.
ALTER TABLE users ADD COLUMN disabled boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN email_checked boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN description text;
ALTER TABLE users ADD COLUMN language text;

-- Outgoing e-mail written by the default mailer (operational state, not a read model):
-- a relay or an operator sends what is unsent.
CREATE TABLE mail_outbox
(
    mail_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient  text        NOT NULL,
    subject    text        NOT NULL,
    body       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz
);

-- Pending e-mail verifications (operational state): only the SHA-256 of each mailed code.
CREATE TABLE email_verifications
(
    code_sha256 text PRIMARY KEY,
    user_id     text        NOT NULL,
    expires_at  timestamptz NOT NULL
);
