-- Logs an operation of a draft as the next in its sequence; $1 = plan id, $2 = actor,
-- $3 = the operation (JSON, as sent).
INSERT INTO plan_operations (plan_id, seq, actor, body)
SELECT $1, coalesce(max(seq), 0) + 1, $2, $3
FROM plan_operations
WHERE plan_id = $1
