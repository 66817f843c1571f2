-- Which of these events a reporter's token reported itself.
SELECT id
FROM events
WHERE reporter_token = $1 AND id = ANY($2)
