-- Which of the ID-number lookup hashes $1 are registered already (compared without
-- decrypting anything).
SELECT id_number_lookup FROM residents WHERE id_number_lookup = ANY($1::bytea[])
