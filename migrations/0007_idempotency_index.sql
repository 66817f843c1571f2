-- minqing schema, version 7: the idempotency index holds only the rows that have a key.
--
-- Most events have none (generated data, imports, reports sent without the header), yet
-- every insert and every update that is not HOT (a re-assignment to a new grid, a state
-- change) wrote a NULL entry into this unique index. ON CONFLICT names the same predicate.
DROP INDEX IF EXISTS events_idempotency_key;
CREATE UNIQUE INDEX events_idempotency_key ON events (idempotency_key)
    WHERE idempotency_key IS NOT NULL;
