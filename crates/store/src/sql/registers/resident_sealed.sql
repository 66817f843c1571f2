-- The sealed personal fields of resident $1 (an authorised, logged read).
SELECT id_number_sealed, phone_sealed FROM residents WHERE id = $1
