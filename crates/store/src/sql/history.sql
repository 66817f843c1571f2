-- A case's history, oldest first.
SELECT at, actor, from_status, to_status, note, action, assignee
FROM event_history
WHERE event_id = $1
ORDER BY at, id
