"""Acknowledged rows and DDL survive a clean restart and a kill -9."""

from __future__ import annotations

import numpy as np
import psycopg

from sqlvec.testing import ServerProcess
from sqlvec.vectors import format_vector


def write_rows(server: ServerProcess, count: int) -> np.ndarray:
    vectors = np.random.default_rng(3).standard_normal((count, 4)).astype(np.float32)
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("CREATE COLLECTION durable (id BIGINT PRIMARY KEY, embedding VECTOR(4))")
        for i, v in enumerate(vectors):  # one acknowledged statement per row
            conn.execute(
                "INSERT INTO durable (id, embedding) VALUES (%s, %s)", (i, format_vector(v))
            )
    return vectors


def assert_all_rows(server: ServerProcess, vectors: np.ndarray) -> None:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM durable").fetchone() == (len(vectors),)
        for i in (0, len(vectors) - 1):
            row = conn.execute(
                "SELECT id FROM durable ORDER BY embedding <-> %s LIMIT 1",
                (format_vector(vectors[i]),),
            ).fetchone()
            assert row == (i,)


def test_clean_restart_keeps_rows_and_ddl(own_server: ServerProcess) -> None:
    vectors = write_rows(own_server, 50)
    assert own_server.stop() == 0
    own_server.start()
    assert_all_rows(own_server, vectors)


def test_kill_9_keeps_every_acknowledged_row(own_server: ServerProcess) -> None:
    vectors = write_rows(own_server, 50)
    own_server.kill()
    own_server.start()
    assert_all_rows(own_server, vectors)
