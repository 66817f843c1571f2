-- After an operation: the draft's last change and its new validation report; $1 = plan id,
-- $2 = the report (JSON).
UPDATE plans SET updated_at = clock_timestamp(), report = $2 WHERE id = $1
