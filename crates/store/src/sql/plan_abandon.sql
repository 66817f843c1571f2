-- Abandons a plan (kept, no longer editable); $1 = plan id.
UPDATE plans SET status = 'abandoned', updated_at = clock_timestamp() WHERE id = $1
