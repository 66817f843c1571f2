-- The planner's estimate of the number of events (0 for a table never analysed), to size
-- the in-memory index up front.
SELECT greatest(reltuples, 0)::real AS estimate FROM pg_class WHERE oid = 'events'::regclass
