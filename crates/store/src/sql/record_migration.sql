-- Record an applied migration (in the migration's transaction).
-- $1 version, $2 name.
INSERT INTO schema_migrations (version, name) VALUES ($1, $2)
