-- After a bulk load of areas with explicit ids: the id sequence goes on after the highest.
SELECT setval(pg_get_serial_sequence('areas', 'id'), (SELECT max(id) FROM areas))
