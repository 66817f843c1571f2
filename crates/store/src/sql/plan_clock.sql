-- The time a publish takes effect (`at`: the clock now, not the transaction's start); no
-- parameters.
SELECT clock_timestamp() AS at
