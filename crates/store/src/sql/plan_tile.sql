-- A draft as one vector tile (layer `plan`): every draft grid meeting tile $2/$3/$4, with
-- its key (the feature id), code, name, figures and state (unchanged, changed, new).
WITH env AS (SELECT ST_TileEnvelope($2, $3, $4) AS e)
SELECT ST_AsMVT(t, 'plan', 4096, 'geom', 'key') AS tile
FROM (
    SELECT g.key, g.code, g.name, g.households, g.population,
           CASE WHEN NOT g.changed THEN 'unchanged'
                WHEN g.source_id IS NULL THEN 'new' ELSE 'changed' END AS state,
           ST_AsMVTGeom(ST_Transform(g.geom, 3857), env.e, 4096, 64, true) AS geom
    FROM plan_grids g, env
    WHERE g.plan_id = $1
      AND g.geom && ST_Transform(ST_Expand(env.e, (ST_XMax(env.e) - ST_XMin(env.e)) / 64), 4326)
) t
WHERE t.geom IS NOT NULL
