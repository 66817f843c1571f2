-- The last visit to each of the targets: $1 kinds, $2 ids (pairwise).
SELECT t.kind, t.id, max(v.at) AS last
FROM unnest($1::text[], $2::bigint[]) AS t (kind, id)
JOIN visits v ON v.target_kind = t.kind AND v.target_id = t.id
GROUP BY t.kind, t.id
