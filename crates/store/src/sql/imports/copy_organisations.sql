-- An import of organisations (text COPY; rows built by imports.rs in this column order).
-- The contact phone arrives sealed, with its lookup hash.
COPY organisations (code, name, kind, building_id, contact_name, contact_phone_sealed,
                    contact_phone_lookup, geom) FROM STDIN
