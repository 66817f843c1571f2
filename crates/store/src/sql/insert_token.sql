-- A new token: only the hash of its secret is kept; $5 the sensitive care tags granted.
INSERT INTO tokens (name, role, area_code, hash, grants) VALUES ($1, $2, $3, $4, $5) RETURNING id
