-- Insert one newly reported event. A repeated idempotency key inserts nothing and returns
-- no row; the caller then reads the first event stored under that key.
INSERT INTO events (category, title, description, status, priority, grid_id,
                    reported_at, updated_at, idempotency_key, geom)
VALUES ($1, $2, $3, 'reported', $4, $5, now(), now(), $6,
        ST_SetSRID(ST_MakePoint($7, $8), 4326))
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING id
