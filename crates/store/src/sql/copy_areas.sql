-- Bulk read of the current areas for the in-memory index (binary COPY, ordered by id).
-- Read by position (binary COPY has no column names): load.rs lists the types of these
-- columns in this order.
COPY (
    SELECT id, code, name, name_en, level, parent_id, households, population,
           workers::text, generated, source, version, ST_AsBinary(geom)
    FROM areas
    WHERE valid_to IS NULL
    ORDER BY id
) TO STDOUT (FORMAT binary)
