-- Per worker of $3 (NULL: every worker with any, for a whole city: a long list of ids costs
-- more than grouping all), the cases reported in [$1, $2): those they reported (and how many were
-- not rejected), those they handled (accepted, decided by now, on time to the second,
-- return visits answered and satisfied), and their visits in the period.
WITH made AS (
    SELECT reporter_worker AS id, count(*) AS reports,
           count(*) FILTER (WHERE status <> 'rejected') AS kept
    FROM events
    WHERE reporter_worker IS NOT NULL AND ($3::int8[] IS NULL OR reporter_worker = ANY ($3))
      AND reported_at >= $1 AND reported_at < $2
    GROUP BY reporter_worker
), handled AS (
    SELECT worker_id AS id,
           count(*) FILTER (WHERE status NOT IN ('reported', 'rejected')) AS handled,
           count(*) FILTER (WHERE status IN ('resolved', 'closed')
                               OR (status NOT IN ('reported', 'rejected') AND due_at < now()))
               AS decided,
           count(*) FILTER (WHERE status IN ('resolved', 'closed') AND resolved_at IS NOT NULL
                              AND (due_at IS NULL
                                   OR reported_at + floor(extract(epoch FROM resolved_at - reported_at))
                                      * interval '1 second' <= due_at)) AS on_time,
           count(*) FILTER (WHERE satisfied IS NOT NULL) AS answered,
           count(*) FILTER (WHERE satisfied) AS satisfied
    FROM events
    WHERE worker_id IS NOT NULL AND ($3::int8[] IS NULL OR worker_id = ANY ($3))
      AND reported_at >= $1 AND reported_at < $2
    GROUP BY worker_id
), visited AS (
    SELECT worker_id AS id, count(*) AS visits
    FROM visits
    WHERE ($3::int8[] IS NULL OR worker_id = ANY ($3)) AND at >= $1 AND at < $2
    GROUP BY worker_id
)
SELECT id,
       coalesce(m.reports, 0) AS reports, coalesce(m.kept, 0) AS kept,
       coalesce(h.handled, 0) AS handled, coalesce(h.decided, 0) AS decided,
       coalesce(h.on_time, 0) AS on_time, coalesce(h.answered, 0) AS answered,
       coalesce(h.satisfied, 0) AS satisfied, coalesce(v.visits, 0) AS visits
FROM made m
FULL JOIN handled h USING (id)
FULL JOIN visited v USING (id)
