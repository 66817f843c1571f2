-- The base grids of a draft that no draft grid continues unchanged: closed on publish
-- (their codes may live on in a changed draft grid).
SELECT b.area_id AS id, a.code, a.name, a.version
FROM plan_base b JOIN areas a ON a.id = b.area_id
WHERE b.plan_id = $1
  AND NOT EXISTS (SELECT 1 FROM plan_grids g
                  WHERE g.plan_id = $1 AND g.source_id = b.area_id AND NOT g.changed)
ORDER BY b.area_id
