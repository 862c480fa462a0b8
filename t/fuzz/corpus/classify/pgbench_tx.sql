BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + -5 WHERE aid = 3;
END;