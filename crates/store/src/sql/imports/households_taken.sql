-- Codes among $1 that households already hold (an import refuses them).
SELECT code FROM households WHERE code = ANY($1::text[])
