-- One entry of an event's append-only history.
INSERT INTO event_history (event_id, actor, from_status, to_status, note)
VALUES ($1, $2, $3, $4, $5)
