-- Identifies the set of current areas: how many (`areas`) and the sum of their ids
-- (`id_sum`); no parameters.
SELECT count(*) AS areas, coalesce(sum(id), 0)::bigint AS id_sum
FROM areas
WHERE valid_to IS NULL
