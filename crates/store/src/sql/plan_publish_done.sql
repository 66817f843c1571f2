-- Publishing: marks a plan published with the report it was published with; $1 = plan id,
-- $2 = when, $3 = actor, $4 = the report (JSON).
UPDATE plans
SET status = 'published', published_at = $2, published_by = $3, report = $4, updated_at = $2
WHERE id = $1
