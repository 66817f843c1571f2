-- minqing schema, version 17: the grid workers' record follows the change feed, so that
-- every instance keeps it in memory for assessment (crates/index work.rs).
--
-- Visits carry the transaction that wrote them (changed_xid), read from the feed's
-- watermark as events are (0002): none is skipped whatever the commit order. Workers and
-- their duties change rarely and are reloaded whole: a write to either, or to visits,
-- sends one NOTIFY per statement on minqing_work with the table's name as payload.

ALTER TABLE visits ADD COLUMN changed_xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE visits ALTER COLUMN changed_xid SET DEFAULT pg_current_xact_id();
CREATE INDEX visits_changed_xid ON visits (changed_xid);

CREATE FUNCTION minqing_work_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('minqing_work', TG_TABLE_NAME);
    RETURN NULL;
END
$$;

CREATE TRIGGER visits_notify AFTER INSERT OR UPDATE OR DELETE ON visits
    FOR EACH STATEMENT EXECUTE FUNCTION minqing_work_notify();
CREATE TRIGGER workers_notify AFTER INSERT OR UPDATE OR DELETE ON workers
    FOR EACH STATEMENT EXECUTE FUNCTION minqing_work_notify();
CREATE TRIGGER worker_duties_notify AFTER INSERT OR UPDATE OR DELETE ON worker_duties
    FOR EACH STATEMENT EXECUTE FUNCTION minqing_work_notify();
