-- Whether a grid code is taken (a row: yes): by a grid of the draft, or by a current area
-- the draft does not replace; $1 = plan id, $2 = code.
SELECT 1 AS taken FROM plan_grids WHERE plan_id = $1 AND code = $2
UNION ALL
SELECT 1 FROM areas
WHERE code = $2 AND valid_to IS NULL
  AND NOT EXISTS (SELECT 1 FROM plan_base b WHERE b.plan_id = $1 AND b.area_id = areas.id)
