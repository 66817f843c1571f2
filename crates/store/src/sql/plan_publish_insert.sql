-- Publishing: a new version (valid from $2) of every changed draft grid, in key order;
-- version = the code's last version + 1.
INSERT INTO areas (code, name, name_en, level, parent_id, households, population, workers,
                   generated, source, version, valid_from, geom)
SELECT g.code, g.name, g.name_en, 'grid', g.parent_id, g.households, g.population,
       g.workers, false, 'plan #' || $1::bigint,
       coalesce((SELECT max(o.version) FROM areas o WHERE o.code = g.code), 0) + 1, $2, g.geom
FROM plan_grids g
WHERE g.plan_id = $1 AND g.changed
ORDER BY g.key
RETURNING id, code, version
