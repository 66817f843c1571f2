-- Unmasked reads, newest first: optionally of resident $1, by token $2, since $3, before
-- id $4 (paging), at most $5.
SELECT id, at, token_id, token_name, role, resident_id, fields, purpose, request_id
FROM register_access_log
WHERE ($1::bigint IS NULL OR resident_id = $1)
  AND ($2::bigint IS NULL OR token_id = $2)
  AND ($3::timestamptz IS NULL OR at >= $3)
  AND ($4::bigint IS NULL OR id < $4)
ORDER BY id DESC
LIMIT $5
