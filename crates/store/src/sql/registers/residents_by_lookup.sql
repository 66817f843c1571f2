-- Residents whose ID number ($1) or phone ($2) lookup hash matches (exact search without
-- decryption).
SELECT id FROM residents WHERE id_number_lookup = $1 OR phone_lookup = $2 ORDER BY id
