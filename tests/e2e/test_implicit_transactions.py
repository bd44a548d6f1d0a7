"""The extended protocol's implicit transaction: the Executes before one Sync (outside BEGIN)
commit together at Sync, and an error rolls all of them back, as in Postgres. psycopg's
pipeline mode and asyncpg's executemany rely on it."""

from __future__ import annotations

import asyncio

import asyncpg
import psycopg
import pytest

from sqlvec.testing import ServerProcess


def fresh(conn: psycopg.Connection, name: str) -> None:
    conn.execute(f"DROP TABLE IF EXISTS {name}")
    conn.execute(f"CREATE TABLE {name} (id BIGINT PRIMARY KEY, title TEXT, e vector(2))")


def ids(conn: psycopg.Connection, name: str) -> list[int]:
    return [row[0] for row in conn.execute(f"SELECT id FROM {name} ORDER BY id").fetchall()]


def test_pipeline_with_a_failing_statement_writes_nothing(conn: psycopg.Connection) -> None:
    fresh(conn, "it_pipe")
    conn.execute("INSERT INTO it_pipe VALUES (1, 'kept', '[0,0]')")
    with pytest.raises(psycopg.errors.UniqueViolation), conn.pipeline():
        conn.execute("INSERT INTO it_pipe VALUES (2, 'a', '[1,1]')")
        conn.execute("UPDATE it_pipe SET title = 'changed' WHERE id = 1")
        conn.execute("INSERT INTO it_pipe VALUES (1, 'dup', '[2,2]')")  # 23505
    assert ids(conn, "it_pipe") == [1]
    assert conn.execute("SELECT title FROM it_pipe WHERE id = 1").fetchone() == ("kept",)
    # Neither in DuckDB nor in the in-memory copy that searches read.
    knn = "SELECT id FROM it_pipe ORDER BY e <-> '[1,1]' LIMIT 5"
    assert [row[0] for row in conn.execute(knn).fetchall()] == [1]
    # The connection is usable, and a pipeline that succeeds commits all of it at Sync.
    with conn.pipeline():
        conn.execute("INSERT INTO it_pipe VALUES (2, 'a', '[1,1]')")
        conn.execute("INSERT INTO it_pipe VALUES (3, 'b', '[3,3]')")
        # A read after a write in the same pipeline sees it, as in Postgres.
        seen = conn.execute("SELECT count(*) FROM it_pipe")
    assert seen.fetchone() == (3,)
    assert [row[0] for row in conn.execute(knn).fetchall()] == [2, 1, 3]


def test_bad_value_in_a_pipeline_rolls_back_the_earlier_ones(conn: psycopg.Connection) -> None:
    fresh(conn, "it_bad")
    with pytest.raises(psycopg.errors.DataException), conn.pipeline():
        conn.execute("INSERT INTO it_bad VALUES (%s, 'x', %s)", (1, "[1,1]"))
        conn.execute("INSERT INTO it_bad VALUES (%s, 'x', %s)", (2, "[1,1,1]"))  # 22000
    assert ids(conn, "it_bad") == []
    assert conn.execute("SELECT 1").fetchone() == (1,)


def test_asyncpg_executemany_with_a_bad_row_inserts_nothing(server: ServerProcess) -> None:
    async def run() -> tuple[str, list[int], list[int]]:
        conn = await asyncpg.connect(host="127.0.0.1", port=server.port, user="sqlvec")
        try:
            await conn.execute("DROP TABLE IF EXISTS it_many")
            await conn.execute("CREATE TABLE it_many (id BIGINT PRIMARY KEY, title TEXT)")
            rows = [(1, "a"), (2, "b"), (2, "duplicate"), (4, "d")]
            try:
                await conn.executemany("INSERT INTO it_many VALUES ($1, $2)", rows)
                state = "no error"
            except asyncpg.UniqueViolationError as error:
                state = error.sqlstate
            after_error = [r["id"] for r in await conn.fetch("SELECT id FROM it_many")]
            await conn.executemany("INSERT INTO it_many VALUES ($1, $2)", [(5, "e"), (6, "f")])
            after_success = [
                r["id"] for r in await conn.fetch("SELECT id FROM it_many ORDER BY id")
            ]
            return state, after_error, after_success
        finally:
            await conn.close()

    assert asyncio.run(run()) == ("23505", [], [5, 6])


def test_each_execute_with_its_own_sync_still_commits(server: ServerProcess) -> None:
    """Autocommit as usual: a failing statement undoes only itself."""
    with psycopg.connect(server.dsn, autocommit=True) as first:
        fresh(first, "it_auto")
        first.execute("INSERT INTO it_auto VALUES (%s, 'x', '[0,0]')", (1,))
        with pytest.raises(psycopg.errors.UniqueViolation):
            first.execute("INSERT INTO it_auto VALUES (%s, 'x', '[0,0]')", (1,))
        first.execute("INSERT INTO it_auto VALUES (%s, 'x', '[0,0]')", (2,))
        with psycopg.connect(server.dsn, autocommit=True) as second:
            assert ids(second, "it_auto") == [1, 2]
