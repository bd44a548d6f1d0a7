"""Several client processes insert and search at once; each sees its own rows at once."""

from __future__ import annotations

import multiprocessing

import numpy as np
import psycopg

from sqlvec.testing import ServerProcess

DIM = 16
ROWS_PER_WRITER = 300
WRITERS = 3


def text(vector: np.ndarray) -> str:
    return "[" + ",".join(map(repr, vector.tolist())) + "]"


def writer(dsn: str, worker: int) -> int:
    """Insert rows one statement at a time; after each, search for the row just written."""
    rng = np.random.default_rng(worker)
    misses = 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        for i in range(ROWS_PER_WRITER):
            row_id = worker * 100_000 + i
            vector = rng.standard_normal(DIM).astype(np.float32) + worker * 10
            conn.execute(
                "INSERT INTO shared (id, worker, embedding) VALUES (%s, %s, %s)",
                (row_id, worker, text(vector)),
            )
            found = conn.execute(
                "SELECT id FROM shared ORDER BY embedding <-> %s LIMIT 1", (text(vector),)
            ).fetchone()
            misses += found != (row_id,)
    return misses


def test_writers_in_several_processes(server: ServerProcess) -> None:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS shared")
        conn.execute(
            f"CREATE COLLECTION shared (id BIGINT PRIMARY KEY, worker INT, embedding VECTOR({DIM})) "
            "WITH (segment_rows = 200)"
        )
        conn.execute("CREATE INDEX ON shared USING hnsw (embedding)")
    context = multiprocessing.get_context("spawn")
    with context.Pool(WRITERS) as pool:
        misses = pool.starmap(writer, [(server.dsn, w) for w in range(WRITERS)])
    assert misses == [0] * WRITERS
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        counts = conn.execute(
            "SELECT worker, count(*) FROM shared GROUP BY worker ORDER BY worker"
        ).fetchall()
        assert counts == [(w, ROWS_PER_WRITER) for w in range(WRITERS)]
        stats = conn.execute(
            "SELECT sum(row_count)::bigint, count(*) FILTER (WHERE state <> 'growing') "
            "FROM sqlvec_collection_stats('shared')"
        ).fetchone()
        assert stats[0] == WRITERS * ROWS_PER_WRITER and stats[1] >= 4
