-- An import of buildings (text COPY; rows built by imports.rs in this column order; ids
-- from the identity). geom is hex EWKB (the outline, or the point); point is the located
-- point.
COPY buildings (code, address, kind, floors, source, geom, point) FROM STDIN
