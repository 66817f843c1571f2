-- Every place, for the in-memory registers (ordered by id).
SELECT id, code, name, type, risk_level, state, building_id, generated,
       ST_X(geom) AS lon, ST_Y(geom) AS lat
FROM places ORDER BY id
