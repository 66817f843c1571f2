-- Households that would change grid: for each base grid the draft closes and each changed
-- draft grid of another code overlapping it, the overlap's area and the old grid's area
-- (m²) and households (moved households are estimated by area share).
WITH gone AS (
    SELECT b.area_id FROM plan_base b
    WHERE b.plan_id = $1
      AND NOT EXISTS (SELECT 1 FROM plan_grids g
                      WHERE g.plan_id = $1 AND g.source_id = b.area_id AND NOT g.changed)
)
SELECT o.id AS from_grid, o.code AS from_code, o.households, n.key AS to_key, n.code AS to_code,
       ST_Area(o.geom::geography) AS grid_m2,
       ST_Area(ST_Intersection(o.geom, n.geom)::geography) AS moved_m2
FROM areas o
JOIN plan_grids n ON n.plan_id = $1 AND n.changed AND n.geom && o.geom AND ST_IsValid(n.geom)
WHERE o.id IN (SELECT area_id FROM gone) AND o.code <> n.code
  AND ST_Relate(o.geom, n.geom, '2********')
ORDER BY o.id, n.key
