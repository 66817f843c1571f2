-- Which of the codes $1 name current grids (duties are held on grids only).
SELECT code FROM areas WHERE code = ANY ($1) AND level = 'grid' AND valid_to IS NULL
