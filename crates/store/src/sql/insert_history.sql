-- Append one entry to a case's history (in the transition's transaction).
-- $1 event, $2 actor, $3 from, $4 to, $5 note, $6 action, $7 assignee.
INSERT INTO event_history (event_id, at, actor, from_status, to_status, note, action, assignee)
VALUES ($1, clock_timestamp(), $2, $3, $4, $5, $6, $7)
