-- Households with a code among $1, with their building's point (references of an import).
SELECT h.code, h.id, ST_X(b.point) AS lon, ST_Y(b.point) AS lat
FROM households h JOIN buildings b ON b.id = h.building_id
WHERE h.code = ANY($1::text[])
