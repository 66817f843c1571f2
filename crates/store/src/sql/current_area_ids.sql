-- Code and id of every current area, so that a bulk load can link parents by code.
SELECT code, id FROM areas WHERE valid_to IS NULL
