-- minqing schema, version 8: token changes reach every instance at once.
--
-- Instances cache token lookups. A statement-level trigger sends one NOTIFY on
-- `minqing_tokens` per statement that writes `tokens` (a revocation, a new token), so that
-- every instance listening on the change feed drops what it cached and checks again: a
-- revoked token stops working within a second everywhere, and the streams opened with it
-- end.

CREATE FUNCTION minqing_tokens_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('minqing_tokens', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER tokens_notify AFTER INSERT OR UPDATE OR DELETE ON tokens
    FOR EACH STATEMENT EXECUTE FUNCTION minqing_tokens_notify();
