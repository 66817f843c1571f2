-- The union of WKB geometries $1, as one MultiPolygon (WKB).
SELECT ST_AsBinary(ST_Multi(ST_CollectionExtract(ST_Union(ST_GeomFromWKB(w, 4326)), 3))) AS geom
FROM unnest($1::bytea[]) AS w
