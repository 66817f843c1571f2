-- The highest area id (0 when there is none): a bulk load numbers its areas after it.
SELECT coalesce(max(id), 0) AS max_id FROM areas
