-- Every organisation, for the in-memory registers (ordered by id); never the sealed phone.
SELECT id, code, name, kind, building_id, contact_name, generated,
       ST_X(geom) AS lon, ST_Y(geom) AS lat
FROM organisations ORDER BY id
