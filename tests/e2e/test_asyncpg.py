"""asyncpg against a real server: it asks for binary results and parameters for every type it
knows. Vector parameters need the type catalog (a later issue), so vectors travel as literals
here and results are ids and distances."""

from __future__ import annotations

import asyncio

import asyncpg
import numpy as np
import psycopg

from sqlvec.testing import ServerProcess
from sqlvec.vectors import format_vector


def test_asyncpg_knn_and_scalar_queries_in_binary(server: ServerProcess) -> None:
    vectors = np.random.default_rng(21).standard_normal((100, 4)).astype(np.float32)
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS apg_docs")
        conn.execute("CREATE TABLE apg_docs (id BIGINT PRIMARY KEY, year INT, embedding vector(4))")
        values = ", ".join(
            f"({i}, {2000 + i % 5}, '{format_vector(v)}')" for i, v in enumerate(vectors)
        )
        conn.execute(f"INSERT INTO apg_docs (id, year, embedding) VALUES {values}")
    query = vectors[17]
    expected = np.argsort(np.linalg.norm(vectors - query, axis=1))[:5].tolist()

    async def run() -> None:
        connection = await asyncpg.connect(
            host="127.0.0.1", port=server.port, user="sqlvec", database="sqlvec"
        )
        try:
            sql = (
                "SELECT id, embedding <-> '" + format_vector(query) + "' AS distance "
                "FROM apg_docs ORDER BY distance LIMIT $1"
            )
            rows = await connection.fetch(sql, 5)
            assert [r["id"] for r in rows] == expected
            assert rows[0]["distance"] == 0.0
            counts = await connection.fetch(
                "SELECT year, count(*) AS n FROM apg_docs WHERE year > $1 GROUP BY year ORDER BY year",
                2002,
            )
            assert [(r["year"], r["n"]) for r in counts] == [(2003, 20), (2004, 20)]
            statement = await connection.prepare("SELECT id FROM apg_docs WHERE id = $1")
            for i in range(10):
                assert await statement.fetchval(i) == i
            async with connection.transaction():
                assert await connection.fetchval("SELECT count(*) FROM apg_docs") == 100
            try:
                await connection.fetch("SELECT * FROM nope")
            except asyncpg.UndefinedTableError:
                pass
            else:
                raise AssertionError("expected UndefinedTableError")
            assert await connection.fetchval("SELECT 1") == 1
        finally:
            await connection.close()

    asyncio.run(run())


def test_asyncpg_transactions_and_savepoints(server: ServerProcess) -> None:
    """`async with conn.transaction()` sends BEGIN / COMMIT / ROLLBACK, and nested blocks use
    savepoints: an exception undoes its own block only."""
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS apg_tx")
        conn.execute("CREATE TABLE apg_tx (id BIGINT PRIMARY KEY, embedding vector(2))")

    async def run() -> None:
        connection = await asyncpg.connect(
            host="127.0.0.1", port=server.port, user="sqlvec", database="sqlvec"
        )
        insert = "INSERT INTO apg_tx (id, embedding) VALUES ($1, '[1,1]')"
        ids = "SELECT id FROM apg_tx ORDER BY id"
        try:
            async with connection.transaction():
                await connection.execute(insert, 1)
                try:
                    async with connection.transaction():  # SAVEPOINT
                        await connection.execute(insert, 2)
                        await connection.execute(insert, 1)  # duplicate: 23505
                except asyncpg.UniqueViolationError:
                    pass
                assert [r["id"] for r in await connection.fetch(ids)] == [1]
                async with connection.transaction():  # SAVEPOINT, RELEASE
                    await connection.execute(insert, 3)
                nearest = "SELECT id FROM apg_tx ORDER BY embedding <-> '[1,1]' LIMIT 5"
                assert sorted(r["id"] for r in await connection.fetch(nearest)) == [1, 3]
            try:
                async with connection.transaction(isolation="serializable"):
                    await connection.execute(insert, 4)
                    raise RuntimeError("undo")
            except RuntimeError:
                pass
            assert [r["id"] for r in await connection.fetch(ids)] == [1, 3]
            assert not connection.is_in_transaction()
        finally:
            await connection.close()

    asyncio.run(run())
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        assert conn.execute("SELECT id FROM apg_tx ORDER BY id").fetchall() == [(1,), (3,)]
