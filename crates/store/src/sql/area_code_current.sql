-- Whether a current (not retired) area has this code, for a token scoped to it.
-- $1 area code.
SELECT 1 AS found FROM areas WHERE code = $1 AND valid_to IS NULL
