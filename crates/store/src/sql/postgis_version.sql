-- The PostGIS library version, e.g. "3.3 USE_GEOS=1 USE_PROJ=1 USE_STATS=1".
SELECT postgis_version() AS version
