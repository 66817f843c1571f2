-- After a bulk write with explicit ids: the identities continue after the highest id.
SELECT setval(pg_get_serial_sequence('buildings', 'id'), greatest(1, (SELECT max(id) FROM buildings))),
       setval(pg_get_serial_sequence('places', 'id'), greatest(1, (SELECT max(id) FROM places))),
       setval(pg_get_serial_sequence('organisations', 'id'), greatest(1, (SELECT max(id) FROM organisations))),
       setval(pg_get_serial_sequence('households', 'id'), greatest(1, (SELECT max(id) FROM households))),
       setval(pg_get_serial_sequence('residents', 'id'), greatest(1, (SELECT max(id) FROM residents)))
