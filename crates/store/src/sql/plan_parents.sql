-- The parents (communities) a draft covers (`area_id`), in id order; $1 = plan id.
SELECT area_id FROM plan_parents WHERE plan_id = $1 ORDER BY area_id
