"""Milvus' hello-world (20 vectors, IVF_FLAT with nlist 16384) as SQL through the psql binary."""

from __future__ import annotations

import numpy as np

from sqlvec.testing import ServerProcess
from sqlvec.vectors import format_vector
from tests.e2e.test_psql import psql

DIM = 8


def walkthrough(vectors: np.ndarray) -> str:
    values = ", ".join(f"({i}, '{format_vector(v)}')" for i, v in enumerate(vectors))
    searches = "\n".join(
        f"SELECT {i} AS query, id, embedding <-> '{format_vector(v)}' AS distance "
        "FROM hello ORDER BY distance LIMIT 3;"
        for i, v in enumerate(vectors[:10])
    )
    return f"""
CREATE COLLECTION hello (id BIGINT PRIMARY KEY, embedding VECTOR({DIM})) WITH (metric = 'l2', index_file_size = 32);
SHOW COLLECTIONS;
INSERT INTO hello (id, embedding) VALUES {values};
FLUSH hello;
SELECT 'stats', partition, state, row_count FROM sqlvec_collection_stats('hello');
SELECT 'get', count(*) FROM hello WHERE id = ANY(ARRAY[0,1,2,3,4,5,6,7,8,9]);
CREATE INDEX ON hello USING ivf_flat (embedding) WITH (nlist = 16384);
SET nprobe = 16;
{searches}
DELETE FROM hello WHERE id IN (0, 1);
SELECT 'after delete', id FROM hello ORDER BY embedding <-> '{format_vector(vectors[0])}' LIMIT 1;
COMPACT hello;
SELECT 'compacted', sum(row_count), sum(deleted_count) FROM sqlvec_collection_stats('hello');
DROP INDEX ON hello;
DROP COLLECTION hello;
"""


def test_milvus_hello_world_through_psql(server: ServerProcess) -> None:
    vectors = np.random.default_rng(2020).random((20, DIM)).astype(np.float32)
    result = psql(
        server, "-v", "ON_ERROR_STOP=1", "-A", "-t", "-F", "|", stdin=walkthrough(vectors)
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "hello" in lines
    assert "stats|_default|growing|20" in lines
    assert "get|10" in lines
    for i in range(10):
        rows = [line.split("|") for line in lines if line.startswith(f"{i}|")]
        expected = np.argsort(np.linalg.norm(vectors - vectors[i], axis=1))[:3].tolist()
        assert [int(row[1]) for row in rows] == expected
        assert float(rows[0][2]) == 0.0
    nearest_left = int(np.argsort(np.linalg.norm(vectors[2:] - vectors[0], axis=1))[0]) + 2
    assert f"after delete|{nearest_left}" in lines
    assert "compacted|18|0" in lines
