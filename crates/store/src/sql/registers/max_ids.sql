-- The highest id of each register (0 when empty): a bulk write numbers its rows after them.
SELECT (SELECT coalesce(max(id), 0) FROM buildings) AS buildings,
       (SELECT coalesce(max(id), 0) FROM places) AS places,
       (SELECT coalesce(max(id), 0) FROM organisations) AS organisations,
       (SELECT coalesce(max(id), 0) FROM households) AS households,
       (SELECT coalesce(max(id), 0) FROM residents) AS residents
