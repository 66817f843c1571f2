-- Bulk write of buildings (text COPY; rows built by registers.rs in this column order).
-- geom is hex EWKB; point is the located point.
COPY buildings (id, code, address, kind, floors, generated, geom, point) FROM STDIN
