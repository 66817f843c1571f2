-- A case's reporter contact (personal data: only for roles that may see it).
SELECT contact FROM event_reporters WHERE event_id = $1
