-- Bulk load of events: no other writer of events until the load's transaction ends
-- (readers go on).
LOCK TABLE events IN EXCLUSIVE MODE
