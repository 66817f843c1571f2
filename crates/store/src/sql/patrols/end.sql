-- Ends patrol $1 at $2 (kept if already ended).
UPDATE patrols SET ended_at = coalesce(ended_at, $2) WHERE id = $1
