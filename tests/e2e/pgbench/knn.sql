-- Run by tests/e2e/test_pgbench.py with -M extended: :id travels as a bound parameter.
-- pgb_docs.nn5 holds each row's 5th nearest neighbour by numpy brute force; a mismatch
-- divides by zero in a pgbench expression, which aborts the client and fails the run.
\set id random(1, 100)
SELECT id AS hit FROM pgb_docs ORDER BY embedding <-> (SELECT embedding FROM pgb_docs WHERE id = :id) LIMIT 5 \aset
SELECT nn5 AS expected FROM pgb_docs WHERE id = :id \gset
\if :hit != :expected
\set fail 1 / 0
\endif
SELECT id AS first FROM pgb_docs ORDER BY embedding <-> (SELECT embedding FROM pgb_docs WHERE id = :id) LIMIT 1 \gset
\if :first != :id
\set fail 1 / 0
\endif
SELECT count(*) AS n FROM pgb_docs WHERE id <= :id \gset
\if :n != :id
\set fail 1 / 0
\endif
