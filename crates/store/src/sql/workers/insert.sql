-- A new worker: $1 code, $2 name, $3 kind, $4 sealed phone, $5 its lookup hash, $6 generated.
INSERT INTO workers (code, name, kind, phone_sealed, phone_lookup, generated)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
