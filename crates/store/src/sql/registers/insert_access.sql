-- Records an unmasked read of personal data ($1 token id, $2 token name, $3 role,
-- $4 resident id, $5 fields read, $6 purpose, $7 request id). Append-only table.
INSERT INTO register_access_log (token_id, token_name, role, resident_id, fields, purpose,
                                 request_id)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id, at
