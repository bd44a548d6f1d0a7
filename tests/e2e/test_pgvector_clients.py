"""Client libraries that read the catalog before they work: pgvector-python's adapters
(psycopg 3, asyncpg) and SQLAlchemy's inspector, unchanged, against a real server."""

from __future__ import annotations

import asyncio

import asyncpg
import numpy as np
import psycopg
import pytest
from asyncpg import introspection
from pgvector.asyncpg import register_vector as register_vector_asyncpg
from pgvector.psycopg import register_vector

from sqlvec.testing import ServerProcess


def test_psycopg_register_vector_text_and_binary(server: ServerProcess) -> None:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        register_vector(conn)
        conn.execute("DROP TABLE IF EXISTS pgv_items")
        conn.execute("CREATE TABLE pgv_items (id BIGINT PRIMARY KEY, embedding vector(3))")
        a = np.array([1, 2, 3], dtype=np.float32)
        b = np.array([4, 5, 6], dtype=np.float32)
        conn.execute("INSERT INTO pgv_items (id, embedding) VALUES (%s, %s)", (1, a))
        conn.execute("INSERT INTO pgv_items (id, embedding) VALUES (%b, %b)", (2, b))
        for binary in (False, True):
            rows = conn.execute(
                "SELECT id, embedding FROM pgv_items ORDER BY id", binary=binary
            ).fetchall()
            assert [r[0] for r in rows] == [1, 2]
            assert np.array_equal(rows[0][1].to_numpy(), a)
            assert np.array_equal(rows[1][1].to_numpy(), b)
        nearest = conn.execute(
            "SELECT id FROM pgv_items ORDER BY embedding <-> %s LIMIT 1", (b,)
        ).fetchone()
        assert nearest == (2,)
        # Inside a transaction TypeInfo runs in a savepoint.
        with conn.transaction():
            register_vector(conn)
        conn.execute("DROP TABLE pgv_items")


def test_asyncpg_register_vector_and_introspection(server: ServerProcess) -> None:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS apgv_items")
        conn.execute("CREATE TABLE apgv_items (id BIGINT PRIMARY KEY, embedding vector(3))")

    async def run() -> None:
        conn = await asyncpg.connect(
            host="127.0.0.1", port=server.port, user="sqlvec", database="sqlvec"
        )
        try:
            await register_vector_asyncpg(conn)
            for i in range(3):
                vector = np.array([i, i + 1, i + 2], dtype=np.float32)
                await conn.execute(
                    "INSERT INTO apgv_items (id, embedding) VALUES ($1, $2)", i, vector
                )
            rows = await conn.fetch("SELECT id, embedding FROM apgv_items ORDER BY id")
            assert np.array_equal(rows[2]["embedding"].to_numpy(), [2, 3, 4])
            query = np.array([2, 3, 4], dtype=np.float32)
            nearest = await conn.fetch(
                "SELECT id, embedding <-> $1 AS d FROM apgv_items ORDER BY d LIMIT 1", query
            )
            assert nearest[0]["id"] == 2
            # A result type asyncpg has no codec for runs its recursive introspection query.
            arrays = await conn.fetchrow("SELECT ARRAY[1, 2]::int4[] AS a")
            assert arrays["a"] == [1, 2]
            types = await conn.fetch(introspection.INTRO_LOOKUP_TYPES, [1007, 16386])
            by_name = {r["name"]: r for r in types}
            assert by_name["_vector"]["elemtype"] == 16385
            assert by_name["_vector"]["elemtype_name"] == "vector"
            assert by_name["vector"]["kind"] == b"b" and by_name["vector"]["ns"] == "public"
            assert by_name["_int4"]["elemdelim"] in (",", b",")
            kinds = await conn.fetch(
                "SELECT typtype, oid FROM pg_type WHERE oid = any($1::oid[]) ORDER BY oid",
                [16, 16385],
            )
            assert [(r["typtype"], r["oid"]) for r in kinds] == [(b"b", 16), (b"b", 16385)]
        finally:
            await conn.close()

    asyncio.run(run())


def test_sqlalchemy_inspector(server: ServerProcess) -> None:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    from pgvector.sqlalchemy import Vector

    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS sa_items")
        conn.execute(
            "CREATE TABLE sa_items (id BIGINT PRIMARY KEY, title TEXT, embedding vector(3))"
        )
        conn.execute("CREATE INDEX sa_items_idx ON sa_items USING hnsw (embedding)")
    engine = sqlalchemy.create_engine(f"postgresql+psycopg://sqlvec@127.0.0.1:{server.port}/sqlvec")
    try:
        with engine.connect() as connection:
            assert connection.execute(sqlalchemy.text("SELECT 1")).scalar() == 1
        inspector = sqlalchemy.inspect(engine)
        assert "sa_items" in inspector.get_table_names()
        assert inspector.has_table("sa_items") and not inspector.has_table("nope")
        columns = {c["name"]: c for c in inspector.get_columns("sa_items")}
        assert list(columns) == ["id", "title", "embedding"]
        assert isinstance(columns["embedding"]["type"], Vector)
        assert columns["embedding"]["type"].dim == 3
        assert not columns["id"]["nullable"]
        assert inspector.get_pk_constraint("sa_items")["constrained_columns"] == ["id"]
        indexes = inspector.get_indexes("sa_items")
        assert [(i["name"], i["column_names"]) for i in indexes] == [
            ("sa_items_idx", ["embedding"])
        ]
        table = sqlalchemy.Table("sa_items", sqlalchemy.MetaData(), autoload_with=engine)
        assert isinstance(table.c.embedding.type, Vector)
    finally:
        engine.dispose()
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            conn.execute("DROP TABLE sa_items")
