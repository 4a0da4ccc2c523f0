-- A condition that fails its statement when false. A check written with it can be sent in
-- the same flight as the writes and the COMMIT it guards: a failed statement aborts the
-- transaction, and the COMMIT that follows it then rolls back instead of committing.
CREATE FUNCTION ledger_require(condition boolean, message text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF condition IS NOT TRUE THEN
        RAISE EXCEPTION USING ERRCODE = 'LE001', MESSAGE = message;
    END IF;
    RETURN true;
END
$$;
