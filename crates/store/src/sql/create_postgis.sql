-- Install PostGIS in this database (needs the right to create extensions).
CREATE EXTENSION IF NOT EXISTS postgis
