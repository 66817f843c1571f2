-- Bulk write of households (text COPY; rows built by registers.rs in this column order).
COPY households (id, code, building_id, door, generated) FROM STDIN
