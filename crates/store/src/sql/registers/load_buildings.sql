-- Every building, for the in-memory registers (ordered by id).
SELECT id, code, address, kind, floors, generated, ST_X(point) AS lon, ST_Y(point) AS lat
FROM buildings ORDER BY id
