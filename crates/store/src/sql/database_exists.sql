-- Whether the private cluster's database exists (run by psql on stdin, as the cluster's
-- superuser). psql variable :'database' the database name (embedded.rs: DATABASE).
SELECT 1 AS found FROM pg_database WHERE datname = :'database'
