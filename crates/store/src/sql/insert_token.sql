-- A new token: only the hash of its secret is kept.
INSERT INTO tokens (name, role, area_code, hash) VALUES ($1, $2, $3, $4) RETURNING id
