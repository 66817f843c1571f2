-- Whether a case has a photo.
-- $1 event id.
SELECT 1 AS found FROM event_photos WHERE event_id = $1
