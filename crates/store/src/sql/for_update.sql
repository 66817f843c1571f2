-- Appended to event_case.sql by a transition: locks the case's row until the transaction
-- ends, so that concurrent transitions of one case run one after the other.
FOR UPDATE
