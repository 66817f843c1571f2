-- An import of residents (text COPY; rows built by imports.rs in this column order). ID
-- number and phone arrive sealed, with their lookup hashes.
COPY residents (household_id, name, id_number_sealed, id_number_lookup, phone_sealed,
                phone_lookup, birth_date, sex, registration, tags) FROM STDIN
