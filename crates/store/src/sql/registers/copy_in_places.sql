-- Bulk write of places (text COPY; rows built by registers.rs in this column order).
COPY places (id, code, name, type, risk_level, state, building_id, generated, geom) FROM STDIN
