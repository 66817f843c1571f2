-- Opens a plan's header (a draft) and returns its id; $1 = area id, $2 = name,
-- $3/$4 = households per grid lowest/highest, $5/$6 = population per grid lowest/highest
-- (NULL: no bound), $7 = actor.
INSERT INTO plans (area_id, name, households_min, households_max, population_min,
                   population_max, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id
