-- Whether a migration was applied already.
-- $1 version.
SELECT 1 AS found FROM schema_migrations WHERE version = $1
