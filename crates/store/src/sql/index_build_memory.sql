-- Before a bulk load rebuilds indexes: memory for the sorts, for this transaction only.
SET LOCAL maintenance_work_mem = '1GB'
