-- After a bulk load of events with explicit ids: the id sequence goes on after the highest
-- (at 1 when there are none).
SELECT setval(pg_get_serial_sequence('events', 'id'), greatest((SELECT max(id) FROM events), 1))
