-- How many grids a draft holds (`grids`); $1 = plan id.
SELECT count(*) AS grids FROM plan_grids WHERE plan_id = $1
