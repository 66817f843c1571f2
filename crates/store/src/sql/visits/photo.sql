-- A visit's photo, and the grid the visit was recorded in (for the caller's scope).
SELECT p.content_type, p.bytes, v.grid_code
FROM visit_photos p JOIN visits v ON v.id = p.visit_id
WHERE p.visit_id = $1
