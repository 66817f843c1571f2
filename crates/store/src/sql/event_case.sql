-- One case with what only the detail view shows: the public fields (as select_event.sql),
-- then assignee, merged_into, reporter_token, the register record it names and the
-- worker handling it. A transition appends FOR UPDATE: it locks the
-- row, so that concurrent transitions of one case run one after the other.
SELECT id, category, title, description, status, priority, grid_id,
       reported_at, due_at, updated_at, ST_X(geom) AS lon, ST_Y(geom) AS lat, generated,
       escalation, resolved_at, satisfied, worker_id, reporter_worker,
       assignee, merged_into, reporter_token,
       building_id, place_id, organisation_id, household_id,
       worker_id, (SELECT w.name FROM workers w WHERE w.id = events.worker_id) AS worker_name
FROM events
WHERE id = $1
