-- Records the public id of the key in use ($1), on first use.
INSERT INTO register_keys (key_id) VALUES ($1) ON CONFLICT DO NOTHING
