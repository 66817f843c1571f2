-- The valid (not revoked) token with this hash.
SELECT id, name, role, area_code, grants FROM tokens WHERE hash = $1 AND revoked_at IS NULL
