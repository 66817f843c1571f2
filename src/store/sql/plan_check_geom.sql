-- Validity of an input geometry (WKB $1), with the reason and location of a fault.
SELECT d.valid, d.reason, ST_X(d.location), ST_Y(d.location)
FROM ST_IsValidDetail(ST_GeomFromWKB($1, 4326)) d
