-- An import of places (text COPY; rows built by imports.rs in this column order).
COPY places (code, name, type, risk_level, state, building_id, source, geom) FROM STDIN
