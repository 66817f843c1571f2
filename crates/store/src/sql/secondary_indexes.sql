-- Secondary indexes of a table (all but the primary key), with their definitions, so that
-- a bulk load can drop them and build each once afterwards.
SELECT i.indexname, i.indexdef
FROM pg_indexes i
WHERE i.schemaname = current_schema() AND i.tablename = $1
  AND i.indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype = 'p')
ORDER BY i.indexname
