-- Events that name any of the given register records, newest first: $1 building ids,
-- $2 place ids, $3 organisation ids, $4 household ids, $5 the most to return. One branch
-- per column, each answered by its partial index (0011) whatever the statistics say: an
-- OR under ORDER BY … LIMIT tempts the planner into walking every event by time.
SELECT id FROM (
    SELECT id, reported_at FROM events WHERE building_id = ANY ($1)
    UNION
    SELECT id, reported_at FROM events WHERE place_id = ANY ($2)
    UNION
    SELECT id, reported_at FROM events WHERE organisation_id = ANY ($3)
    UNION
    SELECT id, reported_at FROM events WHERE household_id = ANY ($4)
) linked
ORDER BY reported_at DESC, id DESC
LIMIT $5
