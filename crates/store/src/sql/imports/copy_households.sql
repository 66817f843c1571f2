-- An import of households (text COPY; rows built by imports.rs in this column order).
COPY households (code, building_id, door) FROM STDIN
