-- Records a change of a draft (its last change is now); $1 = plan id.
UPDATE plans SET updated_at = clock_timestamp() WHERE id = $1
