-- A new token: only the hash of its secret is kept; $5 the sensitive care tags granted,
-- $6 the grid worker it belongs to (or NULL).
INSERT INTO tokens (name, role, area_code, hash, grants, worker_id)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
