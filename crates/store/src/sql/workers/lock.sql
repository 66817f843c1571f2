-- Locks a worker ($1) for a change of duties; answers whether they are active.
SELECT active FROM workers WHERE id = $1 FOR UPDATE
