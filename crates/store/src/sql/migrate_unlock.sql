-- Release the advisory lock of migrate_lock.sql.
-- $1 lock key (migrate.rs: LOCK_KEY).
SELECT pg_advisory_unlock($1)
