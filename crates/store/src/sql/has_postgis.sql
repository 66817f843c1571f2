-- Whether the PostGIS extension is installed in this database.
SELECT 1 AS found FROM pg_extension WHERE extname = 'postgis'
