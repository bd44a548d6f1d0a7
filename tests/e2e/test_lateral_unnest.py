"""Batched kNN over an array parameter, `unnest($1::vector[])` CROSS JOIN LATERAL a search,
from real clients: psycopg's text parameters, pgvector's binary `_vector` (psycopg, asyncpg).
Every outer row's results equal the single search of its vector."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import asyncpg
import numpy as np
import psycopg
import pytest
from pgvector import Vector
from pgvector.asyncpg import register_vector as register_vector_asyncpg
from pgvector.psycopg import register_vector
from psycopg.adapt import PyFormat

from sqlvec.testing import ServerProcess
from sqlvec.types import VECTOR_ARRAY_OID
from sqlvec.vectors import format_vector

DIM, ROWS, K = 8, 300, 3
BATCH = (
    "SELECT q.n, r.id FROM unnest(%s::vector[]) WITH ORDINALITY AS q(v, n) CROSS JOIN LATERAL "
    "(SELECT id FROM lu_docs {inner} ORDER BY embedding <-> q.v LIMIT 3) r ORDER BY q.n, r.id"
)
SINGLE = "SELECT id FROM lu_docs {inner} ORDER BY embedding <-> %s LIMIT 3"
INNERS = ["", "WHERE category = 2", "PARTITION (p1)", "PARTITION (p1) WHERE category = 1"]


@pytest.fixture(scope="module")
def docs(server: ServerProcess) -> Iterator[np.ndarray]:
    vectors = np.random.default_rng(41).standard_normal((ROWS, DIM)).astype(np.float32)
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS lu_docs")
        conn.execute(
            f"CREATE TABLE lu_docs (id BIGINT PRIMARY KEY, category INT, embedding vector({DIM}))"
        )
        conn.execute("CREATE PARTITION p1 ON lu_docs")
        for first, partition in ((0, ""), (ROWS // 2, " PARTITION (p1)")):
            values = ", ".join(
                f"({i}, {i % 3}, '{format_vector(vectors[i])}')"
                for i in range(first, first + ROWS // 2)
            )
            conn.execute(f"INSERT INTO lu_docs{partition} VALUES {values}")
        yield vectors
        conn.execute("DROP TABLE lu_docs")


@pytest.fixture
def queries() -> np.ndarray:
    return np.random.default_rng(42).standard_normal((5, DIM)).astype(np.float32)


def array_text(vectors: Any) -> str:
    """Postgres' array text of vectors: `{"[1,2]","[3,4]"}`, NULL for None."""
    return "{" + ",".join("NULL" if v is None else f'"{format_vector(v)}"' for v in vectors) + "}"


def single_searches(conn: psycopg.Connection, inner: str, queries: np.ndarray) -> list[Any]:
    rows = []
    for n, query in enumerate(queries, start=1):
        found = conn.execute(SINGLE.format(inner=inner), (format_vector(query),)).fetchall()
        rows += sorted((n, row[0]) for row in found)
    return rows


@pytest.mark.parametrize("inner", INNERS)
def test_psycopg_text_array_parameter_equals_single_searches(
    server: ServerProcess, docs: np.ndarray, queries: np.ndarray, inner: str
) -> None:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        # psycopg sends a str as an untyped text parameter: the cast types it.
        rows = conn.execute(BATCH.format(inner=inner), (array_text(queries),)).fetchall()
        assert rows == single_searches(conn, inner, queries)
        assert len(rows) == K * len(queries)


def test_parameter_description_says_vector_array(server: ServerProcess, docs: np.ndarray) -> None:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        sql = BATCH.format(inner="").replace("%s", "$1")
        conn.pgconn.prepare(b"lu_batch", sql.encode())
        described = conn.pgconn.describe_prepared(b"lu_batch")
        assert [described.param_type(i) for i in range(described.nparams)] == [VECTOR_ARRAY_OID]


@pytest.mark.parametrize("inner", INNERS[:2])
def test_psycopg_register_vector_binary_array(
    server: ServerProcess, docs: np.ndarray, queries: np.ndarray, inner: str
) -> None:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        register_vector(conn)
        batch = list(queries)
        dumper = conn.adapters.get_dumper(list, PyFormat.BINARY)(list, conn)
        assert dumper.get_key(batch, PyFormat.BINARY) is not None
        assert dumper.upgrade(batch, PyFormat.BINARY).oid == VECTOR_ARRAY_OID
        expected = single_searches(conn, inner, queries)
        for binary in (True, False):
            rows = conn.execute(BATCH.format(inner=inner), (batch,), binary=binary).fetchall()
            assert rows == expected


def test_asyncpg_register_vector_array(
    server: ServerProcess, docs: np.ndarray, queries: np.ndarray
) -> None:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        expected = single_searches(conn, "WHERE category = 2", queries)

    async def run() -> list[Any]:
        conn = await asyncpg.connect(
            host="127.0.0.1", port=server.port, user="sqlvec", database="sqlvec"
        )
        try:
            await register_vector_asyncpg(conn)
            statement = await conn.prepare(
                BATCH.format(inner="WHERE category = 2").replace("%s", "$1")
            )
            assert [t.oid for t in statement.get_parameters()] == [VECTOR_ARRAY_OID]
            # asyncpg walks a numpy array as a nested array: elements go as pgvector's Vector.
            records = await statement.fetch([Vector(q) for q in queries])
            return [(r["n"], r["id"]) for r in records]
        finally:
            await conn.close()

    assert asyncio.run(run()) == expected


def test_null_element_gets_no_rows(
    server: ServerProcess, docs: np.ndarray, queries: np.ndarray
) -> None:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        text = array_text([queries[0], None, queries[1]])
        rows = conn.execute(BATCH.format(inner=""), (text,)).fetchall()
        assert {n for n, _ in rows} == {1, 3}
        assert len(rows) == 2 * K
        # LEFT JOIN keeps the NULL vector's outer row, with NULLs for the search columns.
        left = conn.execute(
            "SELECT q.n, r.id FROM unnest(%s::vector[]) WITH ORDINALITY AS q(v, n) "
            "LEFT JOIN LATERAL (SELECT id FROM lu_docs ORDER BY embedding <-> q.v LIMIT 3) r "
            "ON true WHERE r.id IS NULL",
            (text,),
        ).fetchall()
        assert left == [(2, None)]
        assert conn.execute(BATCH.format(inner=""), ("{}",)).fetchall() == []


@pytest.mark.parametrize(
    ("parameter", "sqlstate"),
    [
        ('{"[1,2,3]"}', "22000"),  # different vector dimensions 8 and 3
        ('{"' + format_vector(np.zeros(DIM)) + '","[1,2]"}', "22000"),
        ('{"[1,2,3]"', "22P02"),  # malformed array literal
        ('{"[1,x,3]"}', "22P02"),  # invalid input syntax for type vector
        ("[1,2,3]", "22P02"),  # a vector, not an array of them
    ],
)
def test_bad_array_parameters(
    server: ServerProcess, docs: np.ndarray, parameter: str, sqlstate: str
) -> None:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        with pytest.raises(psycopg.Error) as caught:
            conn.execute(BATCH.format(inner=""), (parameter,))
        assert caught.value.sqlstate == sqlstate
        assert conn.execute("SELECT 1").fetchone() == (1,)
