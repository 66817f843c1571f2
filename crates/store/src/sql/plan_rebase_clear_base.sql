-- Rebase: forgets a draft's old base (plan_rebase_base.sql records the new one);
-- $1 = plan id.
DELETE FROM plan_base WHERE plan_id = $1
