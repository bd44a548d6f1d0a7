"""A top-k search inside SQL (a kNN subquery, functions of its rows) runs through the index:
the same rows as the search on its own, not DuckDB's exact scan."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import psycopg
import pytest

from sqlvec.testing import ServerProcess

ROWS, DIM, K = 3000, 16, 10


def text(vector: np.ndarray) -> str:
    return "[" + ",".join(map(repr, vector.tolist())) + "]"


@pytest.fixture(scope="module")
def docs(server: ServerProcess) -> Iterator[tuple[psycopg.Connection, np.ndarray]]:
    vectors = np.random.default_rng(41).standard_normal((ROWS, DIM)).astype(np.float32)
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS sq_docs")
        conn.execute(
            f"CREATE COLLECTION sq_docs (id BIGINT PRIMARY KEY, grp INT, embedding VECTOR({DIM}))"
        )
        with conn.cursor().copy("COPY sq_docs (id, grp, embedding) FROM STDIN") as copy:
            for i, vector in enumerate(vectors):
                copy.write_row((i, i % 7, text(vector)))
        conn.execute("CREATE INDEX ON sq_docs USING hnsw (embedding) WITH (m = 4)")
        conn.execute("FLUSH sq_docs")
        wait_for_index(conn)
        conn.execute("SET ef_search = 10")  # approximate enough to tell the index from a scan
        yield conn, vectors
        conn.execute("DROP TABLE sq_docs")


def wait_for_index(conn: psycopg.Connection) -> None:
    """Until every segment is searched through its index (builds run in the background)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        states = conn.execute("SELECT state FROM sqlvec_collection_stats('sq_docs')").fetchall()
        if ("sealed",) in states and ("building",) not in states:
            return
        time.sleep(0.05)
    raise AssertionError(f"index not built: {states}")


def test_a_knn_subquery_and_computed_outputs_take_the_index(
    docs: tuple[psycopg.Connection, np.ndarray],
) -> None:
    conn, vectors = docs
    queries = np.random.default_rng(42).standard_normal((20, DIM)).astype(np.float32)
    differs_from_exact = 0
    for query in queries:
        q = text(query)
        searched = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM sq_docs ORDER BY embedding <-> %s LIMIT %s", (q, K)
            )
        ]
        subquery = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM (SELECT id FROM sq_docs ORDER BY embedding <-> %s LIMIT %s) s",
                (q, K),
            )
        ]
        computed = conn.execute(
            "SELECT id, grp * 2, vector_dims(embedding) FROM sq_docs "
            "ORDER BY embedding <-> %s LIMIT %s",
            (q, K),
        ).fetchall()
        assert subquery == searched
        assert [r[0] for r in computed] == searched
        assert all(r[1] == 2 * (r[0] % 7) and r[2] == DIM for r in computed)
        exact = np.argsort(np.linalg.norm(vectors - query, axis=1), kind="stable")[:K]
        differs_from_exact += set(exact.tolist()) != set(searched)
    # ef_search 10 over a graph of m 4 misses some true neighbours: an exact scan would not.
    assert differs_from_exact > 0


def test_grouping_over_a_knn_subquery_counts_the_search_rows(
    docs: tuple[psycopg.Connection, np.ndarray],
) -> None:
    conn, vectors = docs
    q = text(vectors[5])
    searched = [
        r[0]
        for r in conn.execute("SELECT id FROM sq_docs ORDER BY embedding <-> %s LIMIT 50", (q,))
    ]
    grouped = conn.execute(
        "SELECT grp, count(*) FROM (SELECT grp FROM sq_docs ORDER BY embedding <-> %s LIMIT 50) s "
        "GROUP BY grp ORDER BY grp",
        (q,),
    ).fetchall()
    expected = np.bincount(np.array(searched) % 7, minlength=7)
    assert grouped == [(g, int(n)) for g, n in enumerate(expected) if n]
    plan = [
        r[0]
        for r in conn.execute(
            "EXPLAIN SELECT grp, count(*) FROM (SELECT grp FROM sq_docs "
            "ORDER BY embedding <-> %s LIMIT 50) s GROUP BY grp",
            (q,),
        )
    ]
    assert plan[0] == "DuckDB Query over a vector search's rows"
    assert any(line.strip().startswith("Index: hnsw") for line in plan)


def test_inside_a_block_that_wrote_the_collection_the_subquery_sees_the_new_row(
    docs: tuple[psycopg.Connection, np.ndarray],
) -> None:
    conn, _ = docs
    target = "[" + ",".join(["50"] * DIM) + "]"
    sql = "SELECT id FROM (SELECT id FROM sq_docs ORDER BY embedding <-> %s LIMIT 1) s"
    conn.execute("BEGIN")
    try:
        conn.execute("INSERT INTO sq_docs VALUES (999999, 0, %s)", (target,))
        assert conn.execute(sql, (target,)).fetchall() == [(999999,)]
    finally:
        conn.execute("ROLLBACK")
    assert conn.execute(sql, (target,)).fetchall() != [(999999,)]
