-- Revoke every valid token whose name starts with a prefix; the count is the result.
-- $1 name prefix.
UPDATE tokens SET revoked_at = now() WHERE revoked_at IS NULL AND starts_with(name, $1)
