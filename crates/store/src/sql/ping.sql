-- Whether the database answers (health checks, outage probes).
SELECT 1
