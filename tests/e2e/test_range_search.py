"""Range search over the wire: bound and query vector as parameters, a prepared statement
reused with new bounds, results equal to DuckDB's exact evaluation of the same predicate."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest

from sqlvec.testing import ServerProcess

ROWS = 600


def text(vector: np.ndarray) -> str:
    return "[" + ",".join(map(repr, vector.tolist())) + "]"


@pytest.fixture(scope="module")
def conn(server: ServerProcess) -> psycopg.Connection:
    connection = psycopg.connect(server.dsn, autocommit=True)
    vectors = np.random.default_rng(5).standard_normal((ROWS, 4)).astype(np.float32)
    connection.execute("DROP TABLE IF EXISTS rg_e2e")
    connection.execute(
        "CREATE COLLECTION rg_e2e (id BIGINT PRIMARY KEY, grp INT, embedding VECTOR(4)) "
        "WITH (segment_rows = 200)"
    )
    rows = ", ".join(f"({i}, {i % 7}, '{text(v)}')" for i, v in enumerate(vectors))
    connection.execute(f"INSERT INTO rg_e2e VALUES {rows}")
    connection.execute("CREATE INDEX ON rg_e2e USING ivf_flat (embedding) WITH (nlist = 4)")
    connection.execute("SET nprobe = 4")  # every list: the IVF range search is complete
    yield connection
    connection.close()


def duckdb_answer(conn: psycopg.Connection, predicate: str, params: tuple) -> list[int]:
    """The same predicate, run by DuckDB (ORDER BY id keeps it off the vector search path)."""
    sql = f"SELECT id FROM rg_e2e WHERE {predicate} ORDER BY id"
    return [row[0] for row in conn.execute(sql, params).fetchall()]


@pytest.mark.parametrize(
    "predicate",
    [
        "embedding <-> %s < %s",
        "embedding <-> %s <= %s AND grp = 3",
        "embedding <#> %s < -%s",
        "1 - (embedding <=> %s) > %s",
    ],
)
def test_range_equals_exact_evaluation(conn: psycopg.Connection, predicate: str) -> None:
    query = "[0.5,-0.25,1,0]"
    for bound in (0.3, 0.9, 1.7):
        params = (query, bound)
        plan = conn.execute(f"EXPLAIN SELECT id FROM rg_e2e WHERE {predicate}", params).fetchall()
        assert plan[0][0] == "Vector Range Search on rg_e2e"
        found = conn.execute(f"SELECT id FROM rg_e2e WHERE {predicate}", params).fetchall()
        assert sorted(row[0] for row in found) == duckdb_answer(conn, predicate, params)


def test_prepared_range_reuses_its_plan_with_new_bounds(conn: psycopg.Connection) -> None:
    sql = (
        "SELECT id, embedding <-> %s AS d FROM rg_e2e WHERE embedding <-> %s < %s "
        "ORDER BY embedding <-> %s LIMIT %s"
    )
    query = "[0,0,0,0]"
    counts = []
    with conn.cursor() as cursor:
        for radius in (0.5, 1.0, 1.5):
            rows = cursor.execute(sql, (query, query, radius, query, 50), prepare=True).fetchall()
            distances = [row[1] for row in rows]
            assert distances == sorted(distances) and all(d < radius for d in distances)
            counts.append(len(rows))
    assert counts[0] < counts[1] < counts[2] <= 50


def test_bad_query_vector_is_rejected_and_connection_stays_usable(
    conn: psycopg.Connection,
) -> None:
    with pytest.raises(psycopg.errors.DataException) as caught:
        conn.execute("SELECT id FROM rg_e2e WHERE embedding <-> '[1,2]' < 1")
    assert caught.value.sqlstate == "22000"
    assert conn.execute("SELECT count(*) FROM rg_e2e").fetchone() == (ROWS,)


TWICE = "SELECT id FROM rg_e2e WHERE embedding <-> %s < %s ORDER BY embedding <-> %s LIMIT 10"


def test_query_vector_given_twice_uses_the_range_search(conn: psycopg.Connection) -> None:
    """psycopg sends each %s as its own parameter ($1, $3): equal values take the range path."""
    query = "[0.5,-0.25,1,0]"
    params = (query, 1.2, query)
    plan = conn.execute(f"EXPLAIN {TWICE}", params).fetchall()
    assert plan[0][0] == "Vector Range Search on rg_e2e"
    with conn.cursor() as cursor:
        for _ in range(2):  # prepared on the second run: the same plan, reused
            found = [row[0] for row in cursor.execute(TWICE, params, prepare=True).fetchall()]
            exact = conn.execute(
                "SELECT id FROM rg_e2e WHERE embedding <-> %s < %s "
                "ORDER BY embedding <-> %s, id LIMIT 10",
                params,
            ).fetchall()
            assert found == [row[0] for row in exact]


def test_two_different_query_vectors_run_exactly_in_duckdb(conn: psycopg.Connection) -> None:
    near, order_by = "[0.5,-0.25,1,0]", "[-1,0,0,2]"
    params = (near, 1.5, order_by)
    plan = conn.execute(f"EXPLAIN {TWICE}", params).fetchall()
    assert plan[0][0] == "DuckDB Query"
    with conn.cursor() as cursor:
        found = [row[0] for row in cursor.execute(TWICE, params, prepare=True).fetchall()]
        # The same prepared statement, now with equal vectors, switches to the range search.
        assert cursor.execute(TWICE, (near, 1.5, near), prepare=True).fetchall()
    vectors = {
        row[0]: np.array(row[1:], dtype=np.float64)
        for row in conn.execute(
            "SELECT id, embedding[1], embedding[2], embedding[3], embedding[4] FROM rg_e2e"
        ).fetchall()
    }
    a, b = np.array([0.5, -0.25, 1, 0]), np.array([-1, 0, 0, 2])
    inside = [i for i, v in vectors.items() if np.linalg.norm(v - a) < 1.5]
    expected = sorted(inside, key=lambda i: np.linalg.norm(vectors[i] - b))[:10]
    assert found == expected
