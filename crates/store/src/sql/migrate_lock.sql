-- Take the advisory lock that serialises migrations across instances (waits for it).
-- $1 lock key (migrate.rs: LOCK_KEY).
SELECT pg_advisory_lock($1)
