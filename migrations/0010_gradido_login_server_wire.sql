-- What the Gradido login server's clients need beyond the first Gradido tables:
-- numeric group ids (`group_id` in createUser and checkUsername), the kind and age of each
-- e-mail code (a password reset is not a registration; one reset mail per hour), and how
-- a session was opened (only a session opened by a reset code may set a new password
-- without the old one).

ALTER TABLE groups ADD COLUMN group_id bigint;
UPDATE groups SET group_id = numbered.group_id
FROM (SELECT alias, row_number() OVER (ORDER BY last_position) AS group_id FROM groups) AS numbered
WHERE groups.alias = numbered.alias;
ALTER TABLE groups ALTER COLUMN group_id SET NOT NULL;
CREATE UNIQUE INDEX groups_by_group_id ON groups (group_id);

ALTER TABLE email_verifications ADD COLUMN kind text NOT NULL DEFAULT 'register'
    CHECK (kind IN ('register', 'registerDirect', 'resetPassword'));
ALTER TABLE email_verifications ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX email_verifications_by_user ON email_verifications (user_id, kind);

ALTER TABLE sessions ADD COLUMN opened_by text NOT NULL DEFAULT 'password'
    CHECK (opened_by IN ('password', 'register', 'registerDirect', 'resetPassword'));

-- Analysts see the group number too (a new column goes last in a replaced view).
CREATE OR REPLACE VIEW analyst.groups AS
SELECT alias, name, description, created_at, group_id
FROM public.groups;
