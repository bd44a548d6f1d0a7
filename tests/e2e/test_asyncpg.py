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
