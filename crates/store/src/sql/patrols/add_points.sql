-- Points of patrol $1: $2 sequence numbers, $3 times, $4 longitudes, $5 latitudes, $6
-- accuracies (NaN: unknown). A sequence number stored before is skipped (a batch replayed
-- after a lost answer). Returns how many were new.
WITH ins AS (
    INSERT INTO patrol_points (patrol_id, seq, at, geom, accuracy_m)
    SELECT $1, p.seq, p.at, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326),
           CASE WHEN p.acc = 'NaN'::real THEN NULL ELSE p.acc END
    FROM unnest($2::int[], $3::timestamptz[], $4::float8[], $5::float8[], $6::real[])
         AS p (seq, at, lon, lat, acc)
    ON CONFLICT (patrol_id, seq) DO NOTHING
    RETURNING 1
)
SELECT count(*) AS stored FROM ins
