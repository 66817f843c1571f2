-- Secondary indexes of a table (all but the primary key), with their definitions and the
-- statement that drops each (its name quoted by format's %I), so that a bulk load can drop
-- them and build each once afterwards.
-- $1 table name.
SELECT i.indexname, i.indexdef, format('DROP INDEX %I.%I', i.schemaname, i.indexname) AS drop_index
FROM pg_indexes i
WHERE i.schemaname = current_schema() AND i.tablename = $1
  AND i.indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype = 'p')
ORDER BY i.indexname
