-- The public ids of the keys personal data was sealed with (none before the first register
-- is written). Never the key itself.
SELECT key_id FROM register_keys
