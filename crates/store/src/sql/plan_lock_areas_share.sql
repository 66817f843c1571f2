-- Rebase and late re-assignment: the areas do not change until the transaction ends (a
-- publish waits); no parameters.
LOCK TABLE areas IN SHARE MODE
