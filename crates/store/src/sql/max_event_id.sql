-- The highest event id (0 when there is none): a bulk load numbers its events after it.
SELECT coalesce(max(id), 0) AS max_id FROM events
