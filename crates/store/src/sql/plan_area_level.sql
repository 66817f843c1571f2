-- The level of the current area a plan is opened over (no row: no such current area);
-- $1 = area id.
SELECT level FROM areas WHERE id = $1 AND valid_to IS NULL
