-- A case's photo: content type and bytes.
-- $1 event id.
SELECT content_type, bytes FROM event_photos WHERE event_id = $1
