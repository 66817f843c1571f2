-- Every visit rule.
SELECT subject, code, every_days, since FROM visit_rules ORDER BY subject, code
