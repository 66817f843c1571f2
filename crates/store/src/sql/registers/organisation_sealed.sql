-- The sealed contact phone of organisation $1 (an authorised, logged read).
SELECT contact_phone_sealed FROM organisations WHERE id = $1
