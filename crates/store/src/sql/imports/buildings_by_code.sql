-- Buildings with a code among $1, with their located point (references of an import).
SELECT code, id, ST_X(point) AS lon, ST_Y(point) AS lat
FROM buildings WHERE code = ANY($1::text[])
