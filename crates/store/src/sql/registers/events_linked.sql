-- Events that name any of the given register records, newest first: $1 building ids,
-- $2 place ids, $3 organisation ids, $4 household ids, $5 the most to return.
SELECT id FROM events
WHERE building_id = ANY ($1) OR place_id = ANY ($2) OR organisation_id = ANY ($3)
   OR household_id = ANY ($4)
ORDER BY reported_at DESC, id DESC
LIMIT $5
