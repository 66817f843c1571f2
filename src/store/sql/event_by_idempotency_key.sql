-- The event first stored under an idempotency key.
SELECT id FROM events WHERE idempotency_key = $1
