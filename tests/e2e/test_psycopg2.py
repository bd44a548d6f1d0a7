"""psycopg2 against a real server: plain, then with pgvector-python's `register_vector`."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import psycopg2
import pytest
from pgvector.psycopg2 import register_vector
from psycopg2 import errors

from sqlvec.testing import ServerProcess
from sqlvec.vectors import format_vector

DIM = 8
N = 200


def brute_force(vectors: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    return (np.argsort(np.linalg.norm(vectors - query, axis=1))[:k] + 1).tolist()


@pytest.fixture
def pg2(server: ServerProcess) -> Iterator[psycopg2.extensions.connection]:
    connection = psycopg2.connect(server.dsn)
    connection.autocommit = True
    yield connection
    connection.close()


@pytest.fixture
def vectors(pg2) -> np.ndarray:
    data = np.random.default_rng(21).standard_normal((N, DIM)).astype(np.float32)
    with pg2.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS pg2_docs")
        cur.execute(
            f"CREATE TABLE pg2_docs (id BIGINT PRIMARY KEY, title TEXT, embedding vector({DIM}))"
        )
        cur.executemany(
            "INSERT INTO pg2_docs (id, title, embedding) VALUES (%s, %s, %s)",
            [(i + 1, f"doc {i}", format_vector(v)) for i, v in enumerate(data)],
        )
    return data


def test_knn_scalar_and_errors(pg2, vectors: np.ndarray) -> None:
    rng = np.random.default_rng(3)
    with pg2.cursor() as cur:
        for _ in range(3):
            query = rng.standard_normal(DIM).astype(np.float32)
            cur.execute(
                "SELECT id, title FROM pg2_docs ORDER BY embedding <-> %s LIMIT %s",
                (format_vector(query), 7),
            )
            rows = cur.fetchall()
            ids = brute_force(vectors, query, 7)
            assert [r[0] for r in rows] == ids
            assert [r[1] for r in rows] == [f"doc {i - 1}" for i in ids]
        cur.execute("SELECT count(*), max(id) FROM pg2_docs WHERE id > %s", (150,))
        assert cur.fetchone() == (50, 200)
        with pytest.raises(errors.UndefinedTable) as caught:
            cur.execute("SELECT * FROM pg2_no_such_collection")
        assert caught.value.pgcode == "42P01"
        with pytest.raises(errors.DataException) as caught:
            cur.execute("INSERT INTO pg2_docs (id, embedding) VALUES (%s, %s)", (999, "[1,2]"))
        assert caught.value.pgcode == "22000"
        cur.execute("SELECT count(*) FROM pg2_docs")
        assert cur.fetchone() == (N,)


def test_transaction_error_then_rollback(pg2, vectors: np.ndarray) -> None:
    pg2.autocommit = False
    with pg2.cursor() as cur:
        cur.execute("SELECT 1")
        with pytest.raises(errors.SyntaxError) as caught:
            cur.execute("SELEC 1")
        assert caught.value.pgcode == "42601"
        with pytest.raises(errors.InFailedSqlTransaction):
            cur.execute("SELECT 1")
        pg2.rollback()
        cur.execute("SELECT count(*) FROM pg2_docs")
        assert cur.fetchone() == (N,)
    pg2.rollback()


def test_register_vector_numpy_in_and_out(pg2, vectors: np.ndarray) -> None:
    register_vector(pg2)
    with pg2.cursor() as cur:
        cur.execute("SELECT id, embedding FROM pg2_docs WHERE id = %s", (5,))
        row = cur.fetchone()
        assert row[0] == 5
        np.testing.assert_array_equal(row[1].to_numpy(), vectors[4])
        query = vectors[9] + 0.01
        cur.execute("SELECT id FROM pg2_docs ORDER BY embedding <-> %s LIMIT 5", (query,))
        assert [r[0] for r in cur.fetchall()] == brute_force(vectors, query, 5)
        cur.execute(
            "INSERT INTO pg2_docs (id, title, embedding) VALUES (%s, %s, %s)",
            (N + 1, "numpy", np.ones(DIM, dtype=np.float32)),
        )
        cur.execute("SELECT embedding FROM pg2_docs WHERE id = %s", (N + 1,))
        np.testing.assert_array_equal(cur.fetchone()[0].to_numpy(), np.ones(DIM))
