-- minqing schema, version 2: the change feed that keeps every instance current.
--
-- Every event row carries the id of the transaction that last wrote it (changed_xid). An
-- instance remembers a watermark (the oldest transaction still running when it last read)
-- and reads the rows written since with `changed_xid >= watermark`: nothing committed is
-- ever skipped, whatever the commit order, and a reconnecting instance catches up the same
-- way. A statement-level trigger sends one NOTIFY per writing statement, so instances do
-- not have to poll. updated_at only grows, so an instance can tell a newer state of a row
-- from an older one it may still be holding.

ALTER TABLE events ADD COLUMN changed_xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE events ALTER COLUMN changed_xid SET DEFAULT pg_current_xact_id();
CREATE INDEX events_changed_xid ON events (changed_xid);

CREATE FUNCTION minqing_event_touched() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.changed_xid := pg_current_xact_id();
    NEW.updated_at := greatest(clock_timestamp(), OLD.updated_at + interval '1 microsecond');
    RETURN NEW;
END
$$;

CREATE TRIGGER events_touched BEFORE UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION minqing_event_touched();

CREATE FUNCTION minqing_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('minqing_events', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER events_notify AFTER INSERT OR UPDATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION minqing_events_notify();
