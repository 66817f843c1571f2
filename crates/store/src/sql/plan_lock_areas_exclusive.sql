-- Publishing: no other writer changes the areas until the transaction ends (reads go on);
-- no parameters.
LOCK TABLE areas IN EXCLUSIVE MODE
