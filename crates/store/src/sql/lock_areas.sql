-- Bulk load of areas: no other writer of areas until the load's transaction ends (readers
-- go on).
LOCK TABLE areas IN EXCLUSIVE MODE
