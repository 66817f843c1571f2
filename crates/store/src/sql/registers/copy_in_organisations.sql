-- Bulk write of organisations (text COPY; rows built by registers.rs in this column order).
-- The contact phone arrives sealed, with its lookup hash.
COPY organisations (id, code, name, kind, building_id, contact_name, contact_phone_sealed,
                    contact_phone_lookup, generated, geom) FROM STDIN
