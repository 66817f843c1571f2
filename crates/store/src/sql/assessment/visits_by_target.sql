-- Per visited register record: its last visit before $1 (within a year: no rule is
-- longer), and its visits in [$1, $2).
SELECT target_kind, target_id,
       max(at) FILTER (WHERE at < $1) AS last_before,
       count(*) FILTER (WHERE at >= $1) AS done
FROM visits
WHERE at < $2 AND at >= $1 - interval '367 days'
GROUP BY target_kind, target_id
