"""pg8000 (pure-Python driver, extended protocol for every statement) against a real server."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pg8000.dbapi
import pg8000.native
import pytest

from sqlvec.testing import ServerProcess
from sqlvec.vectors import format_vector

DIM = 8
N = 200


def brute_force(vectors: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    return (np.argsort(np.linalg.norm(vectors - query, axis=1))[:k] + 1).tolist()


@pytest.fixture
def native(server: ServerProcess) -> Iterator[pg8000.native.Connection]:
    connection = pg8000.native.Connection(
        "sqlvec", host="127.0.0.1", port=server.port, database="sqlvec"
    )
    yield connection
    connection.close()


@pytest.fixture
def vectors(native: pg8000.native.Connection) -> np.ndarray:
    data = np.random.default_rng(31).standard_normal((N, DIM)).astype(np.float32)
    native.run("DROP TABLE IF EXISTS p8k_docs")
    native.run(
        f"CREATE TABLE p8k_docs (id BIGINT PRIMARY KEY, title TEXT, embedding vector({DIM}))"
    )
    for i, v in enumerate(data):
        native.run(
            "INSERT INTO p8k_docs (id, title, embedding) VALUES (:id, :title, :embedding)",
            id=i + 1,
            title=f"doc {i}",
            embedding=format_vector(v),
        )
    return data


def test_native_knn_scalar_and_errors(native: pg8000.native.Connection, vectors) -> None:
    rng = np.random.default_rng(4)
    for _ in range(3):
        query = rng.standard_normal(DIM).astype(np.float32)
        rows = native.run(
            "SELECT id, title, embedding <-> :q AS d FROM p8k_docs ORDER BY d LIMIT :k",
            q=format_vector(query),
            k=6,
        )
        ids = brute_force(vectors, query, 6)
        assert [r[0] for r in rows] == ids
        assert [r[1] for r in rows] == [f"doc {i - 1}" for i in ids]
        expected = np.sort(np.linalg.norm(vectors - query, axis=1))[:6]
        np.testing.assert_allclose([r[2] for r in rows], expected, rtol=1e-5)
    assert native.run("SELECT count(*), min(id) FROM p8k_docs WHERE id <= :n", n=10) == [[10, 1]]
    with pytest.raises(pg8000.native.DatabaseError) as caught:
        native.run("SELECT * FROM p8k_no_such_collection")
    assert caught.value.args[0]["C"] == "42P01"
    with pytest.raises(pg8000.native.DatabaseError) as caught:
        native.run("INSERT INTO p8k_docs (id, embedding) VALUES (999, '[1,a]')")
    assert caught.value.args[0]["C"] == "22P02"
    assert native.run("SELECT count(*) FROM p8k_docs") == [[N]]


def test_dbapi_prepared_knn_and_transaction(server: ServerProcess, vectors) -> None:
    conn = pg8000.dbapi.connect(
        user="sqlvec", host="127.0.0.1", port=server.port, database="sqlvec"
    )
    try:
        cur = conn.cursor()
        query = vectors[17] + 0.05
        cur.execute(
            "SELECT id FROM p8k_docs ORDER BY embedding <-> %s LIMIT %s", (format_vector(query), 4)
        )
        assert [r[0] for r in cur.fetchall()] == brute_force(vectors, query, 4)
        # dbapi opens a transaction: an error aborts it until rollback.
        with pytest.raises(pg8000.dbapi.DatabaseError) as caught:
            cur.execute("SELEC 1")
        assert caught.value.args[0]["C"] == "42601"
        conn.rollback()
        cur.execute("SELECT count(*) FROM p8k_docs")
        assert cur.fetchone() == [N]
        conn.rollback()
    finally:
        conn.close()


def test_native_prepared_statement(native: pg8000.native.Connection, vectors) -> None:
    statement = native.prepare("SELECT id FROM p8k_docs ORDER BY embedding <-> :q LIMIT 3")
    try:
        rng = np.random.default_rng(8)
        for _ in range(5):
            query = rng.standard_normal(DIM).astype(np.float32)
            rows = statement.run(q=format_vector(query))
            assert [r[0] for r in rows] == brute_force(vectors, query, 3)
    finally:
        statement.close()
