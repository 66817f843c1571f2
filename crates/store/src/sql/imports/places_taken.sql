-- Codes among $1 that places already hold (an import refuses them).
SELECT code FROM places WHERE code = ANY($1::text[])
