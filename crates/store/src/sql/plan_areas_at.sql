-- Areas valid at time $1, id order after $2, at most $3: of level $4 (NULL any), child of
-- $5 (NULL any), meeting box $6..$9 (NULL none). Columns are read by name.
SELECT a.id, a.code, a.name, a.name_en, a.level, a.parent_id, a.households, a.population,
       a.workers::text AS workers, a.generated, a.source, a.version,
       ST_AsBinary(a.geom) AS geom
FROM areas a
WHERE a.valid_from <= $1 AND (a.valid_to IS NULL OR a.valid_to > $1)
  AND a.id > $2
  AND ($4::text IS NULL OR a.level = $4)
  AND ($5::bigint IS NULL OR a.parent_id = $5)
  AND ($6::float8 IS NULL
       OR ST_Intersects(a.geom, ST_MakeEnvelope($6, $7, $8, $9, 4326)))
ORDER BY a.id
LIMIT $3
