-- Codes among $1 that organisations already hold (an import refuses them).
SELECT code FROM organisations WHERE code = ANY($1::text[])
