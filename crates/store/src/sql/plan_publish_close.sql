-- Publishing: closes the current area rows a draft replaces; $1 = area ids, $2 = when.
UPDATE areas SET valid_to = $2 WHERE id = ANY($1) AND valid_to IS NULL
