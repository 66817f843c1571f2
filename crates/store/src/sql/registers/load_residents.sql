-- Every resident, for the in-memory registers (ordered by id); never the sealed fields.
SELECT id, household_id, name, birth_date, sex, registration, tags, generated
FROM residents ORDER BY id
