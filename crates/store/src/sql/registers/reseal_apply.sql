-- Every sealed value and lookup hash replaced by its re-sealed form, and the new key's
-- public id recorded in place of the old one's ($1). The lookups move to new values in
-- one statement each; UNIQUE on id_number_lookup holds since keyed hashes of distinct
-- numbers differ.
UPDATE residents r
SET id_number_sealed = t.first_sealed, id_number_lookup = t.first_lookup,
    phone_sealed = t.second_sealed, phone_lookup = t.second_lookup
FROM resealed t WHERE t.kind = 'resident' AND t.id = r.id;
UPDATE organisations o
SET contact_phone_sealed = t.first_sealed, contact_phone_lookup = t.first_lookup
FROM resealed t WHERE t.kind = 'organisation' AND t.id = o.id;
UPDATE workers w
SET phone_sealed = t.first_sealed, phone_lookup = t.first_lookup
FROM resealed t WHERE t.kind = 'worker' AND t.id = w.id;
DELETE FROM register_keys;
