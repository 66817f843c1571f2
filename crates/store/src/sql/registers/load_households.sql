-- Every household, for the in-memory registers (ordered by id).
SELECT id, code, building_id, door, generated FROM households ORDER BY id
