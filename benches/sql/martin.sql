-- What Martin serves in the comparison: the events table as it is (a table source), and the
-- areas through a function source that draws the same level per zoom as minqing
-- (district ≤ z8, street z9–10, community z11–12, grid from z13) with ST_AsMVT.
CREATE OR REPLACE FUNCTION bench_areas(z integer, x integer, y integer)
RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT ST_AsMVT(t, 'areas', 4096, 'geom', 'id') FROM (
    SELECT id, code, name, level, households,
           ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(z, x, y), 4096, 64, true) AS geom
    FROM areas
    WHERE valid_to IS NULL
      AND level = CASE WHEN z <= 8 THEN 'district' WHEN z <= 10 THEN 'street'
                       WHEN z <= 12 THEN 'community' ELSE 'grid' END
      AND geom && ST_Transform(ST_TileEnvelope(z, x, y, margin => 64.0 / 4096), 4326)
  ) t
$$;
