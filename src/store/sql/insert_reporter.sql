-- The reporter's contact (personal data), kept apart from the public event row.
INSERT INTO event_reporters (event_id, contact) VALUES ($1, $2)
