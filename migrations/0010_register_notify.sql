-- minqing schema, version 10: register changes reach every instance.
--
-- Every instance holds the registers in memory. A statement-level trigger on each register
-- table (an import, a removal, the demo's bulk write) moves a generation counter and sends
-- one NOTIFY on `minqing_registers`, so that every instance listening on the change feed
-- reloads its registers. The generation tells an instance whether what it holds is current
-- (after a lost connection, or when it reloaded already after its own write): it is read
-- before a load, and a load is skipped when it has not moved since.

CREATE TABLE register_generation (
    one        boolean PRIMARY KEY DEFAULT true CHECK (one),
    generation bigint NOT NULL DEFAULT 0
);
INSERT INTO register_generation DEFAULT VALUES;

CREATE FUNCTION minqing_registers_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE register_generation SET generation = generation + 1;
    PERFORM pg_notify('minqing_registers', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER buildings_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON buildings
    FOR EACH STATEMENT EXECUTE FUNCTION minqing_registers_notify();
CREATE TRIGGER places_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON places
    FOR EACH STATEMENT EXECUTE FUNCTION minqing_registers_notify();
CREATE TRIGGER organisations_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON organisations FOR EACH STATEMENT EXECUTE FUNCTION minqing_registers_notify();
CREATE TRIGGER households_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON households
    FOR EACH STATEMENT EXECUTE FUNCTION minqing_registers_notify();
CREATE TRIGGER residents_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON residents
    FOR EACH STATEMENT EXECUTE FUNCTION minqing_registers_notify();
