-- Keeps a validation report with a plan while it is a draft; $1 = plan id, $2 = the report
-- (JSON).
UPDATE plans SET report = $2 WHERE id = $1 AND status = 'draft'
