-- Codes already used below parent $1 (any version) or in draft $2 that extend the parent's
-- code: the parent's code and name, and the largest grid number (`last_number`; the next follows it).
SELECT p.code, p.name, coalesce((
    SELECT max(substr(c, length(p.code) + 1)::bigint)
    FROM (SELECT code AS c FROM areas WHERE parent_id = $1
          UNION ALL SELECT code FROM plan_grids WHERE plan_id = $2) s
    WHERE c LIKE p.code || '%' AND substr(c, length(p.code) + 1) ~ '^[0-9]{1,15}$'), 0) AS last_number
FROM areas p WHERE p.id = $1
