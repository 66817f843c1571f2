-- Bulk load of areas (text COPY; rows built by write.rs in this column order).
COPY areas (id, code, name, name_en, level, parent_id, households, population, workers,
            generated, source, geom) FROM STDIN
