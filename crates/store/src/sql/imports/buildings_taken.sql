-- Codes among $1 that buildings already hold (an import refuses them).
SELECT code FROM buildings WHERE code = ANY($1::text[])
