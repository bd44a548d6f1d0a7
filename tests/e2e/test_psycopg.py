"""psycopg 3 against a real server: simple and extended protocol, text and binary results."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest
from psycopg import errors

from sqlvec.vectors import format_vector

DIM = 16


@pytest.fixture
def docs(conn: psycopg.Connection) -> tuple[str, np.ndarray]:
    vectors = np.random.default_rng(11).standard_normal((300, DIM)).astype(np.float32)
    conn.execute("DROP TABLE IF EXISTS pg_docs")
    conn.execute(
        f"CREATE TABLE pg_docs (id BIGINT PRIMARY KEY, title TEXT, year INT, embedding vector({DIM}))"
    )
    values = ", ".join(["(%s, %s, %s, %s)"] * len(vectors))
    params: list[object] = []
    for i, v in enumerate(vectors):
        params += [i + 1, f"doc {i}", 1990 + i % 30, format_vector(v)]
    conn.execute(f"INSERT INTO pg_docs (id, title, year, embedding) VALUES {values}", params)
    return "pg_docs", vectors


def brute_force(vectors: np.ndarray, query: np.ndarray, k: int) -> tuple[list[int], np.ndarray]:
    distances = np.linalg.norm(vectors - query, axis=1)
    order = np.argsort(distances)[:k]
    return (order + 1).tolist(), distances[order]


def test_knn_with_parameter_equals_brute_force(conn: psycopg.Connection, docs) -> None:
    _, vectors = docs
    query = np.random.default_rng(5).standard_normal(DIM).astype(np.float32)
    rows = conn.execute(
        "SELECT id, title, embedding <-> %s AS distance FROM pg_docs ORDER BY distance LIMIT 10",
        (format_vector(query),),
    ).fetchall()
    ids, distances = brute_force(vectors, query, 10)
    assert [r[0] for r in rows] == ids
    assert [r[1] for r in rows] == [f"doc {i - 1}" for i in ids]
    np.testing.assert_allclose([r[2] for r in rows], distances, rtol=1e-5)


def test_prepared_statement_run_ten_times(conn: psycopg.Connection, docs) -> None:
    _, vectors = docs
    rng = np.random.default_rng(6)
    for _ in range(10):
        query = rng.standard_normal(DIM).astype(np.float32)
        rows = conn.execute(
            "SELECT id FROM pg_docs ORDER BY embedding <-> %s LIMIT %s",
            (format_vector(query), 5),
            prepare=True,
        ).fetchall()
        assert [r[0] for r in rows] == brute_force(vectors, query, 5)[0]


def test_binary_cursor_returns_vectors_and_ints(conn: psycopg.Connection, docs) -> None:
    _, vectors = docs
    with conn.cursor(binary=True) as cur:
        cur.execute("SELECT id, year, embedding FROM pg_docs WHERE id = %s", (3,))
        row = cur.fetchone()
    assert row[0] == 3 and row[1] == 1992
    # No vector loader is registered here, so psycopg hands back pgvector's binary form.
    raw = bytes(row[2])
    dim = int.from_bytes(raw[:2], "big")
    assert dim == DIM
    np.testing.assert_array_equal(np.frombuffer(raw[4:], ">f4"), vectors[2])


def test_simple_protocol_multiple_statements(conn: psycopg.Connection, docs) -> None:
    cur = conn.cursor()
    cur.execute("SELECT 1; SELECT count(*) FROM pg_docs", prepare=False)
    assert cur.fetchall() == [(1,)]
    assert cur.nextset()
    assert cur.fetchall() == [(300,)]


def test_scalar_queries_go_through_duckdb(conn: psycopg.Connection, docs) -> None:
    rows = conn.execute(
        "SELECT year, count(*) AS n FROM pg_docs WHERE year < %s GROUP BY year ORDER BY year",
        (1992,),
    ).fetchall()
    assert rows == [(1990, 10), (1991, 10)]
    version = conn.execute("SELECT version()").fetchone()[0]
    assert version.startswith("PostgreSQL 16.4 (sqlvec")
    assert conn.execute("SELECT 1").fetchone() == (1,)


def test_returning_generated_ids(conn: psycopg.Connection) -> None:
    conn.execute("DROP TABLE IF EXISTS pg_auto")
    conn.execute("CREATE COLLECTION pg_auto (title TEXT, embedding VECTOR(2))")
    rows = conn.execute(
        "INSERT INTO pg_auto (title, embedding) VALUES (%s, %s), (%s, %s) RETURNING id, title",
        ("a", "[1,2]", "b", "[3,4]"),
    ).fetchall()
    assert rows == [(1, "a"), (2, "b")]


ERROR_CASES = [
    ("SELEC 1", errors.SyntaxError),
    ("SELECT * FROM no_such_collection", errors.UndefinedTable),
    ("SELECT nope FROM pg_docs ORDER BY embedding <-> '[1]' LIMIT 1", errors.UndefinedColumn),
    (
        f"CREATE TABLE pg_docs (id BIGINT PRIMARY KEY, embedding vector({DIM}))",
        errors.DuplicateTable,
    ),
    ("INSERT INTO pg_docs (id, embedding) VALUES (999, '[1,a]')", errors.InvalidTextRepresentation),
    ("INSERT INTO pg_docs (id, embedding) VALUES (999, '[1,2]')", errors.DataException),
    ("SELECT id FROM pg_docs ORDER BY embedding <-> '[1,2]' LIMIT 1", errors.DataException),
    ("INSERT INTO pg_docs (id, embedding) VALUES (999, '[NaN,1]')", errors.DataException),
    ("INSERT INTO pg_docs SELECT * FROM pg_docs", errors.UniqueViolation),
    ("INSERT INTO pg_docs (id, title, embedding) VALUES (1, 'dup', %s)", errors.UniqueViolation),
]


@pytest.mark.parametrize(("sql", "error"), ERROR_CASES, ids=[e.__name__ for _, e in ERROR_CASES])
def test_errors_leave_connection_usable(conn: psycopg.Connection, docs, sql: str, error) -> None:
    params = (format_vector(np.zeros(DIM)),) if "%s" in sql else None
    with pytest.raises(error) as caught:
        conn.execute(sql, params)
    assert caught.value.diag.message_primary
    assert conn.execute("SELECT 1").fetchone() == (1,)
    assert conn.execute("SELECT count(*) FROM pg_docs").fetchone() == (300,)


def test_error_messages_match_pgvector(conn: psycopg.Connection, docs) -> None:
    with pytest.raises(
        errors.InvalidTextRepresentation, match=r'invalid input syntax for type vector: "\[1,a\]"'
    ):
        conn.execute("SELECT '[1,a]'::vector <-> '[1,2]'")
    with pytest.raises(errors.DataException, match="expected 16 dimensions, not 2"):
        conn.execute("INSERT INTO pg_docs (id, embedding) VALUES (999, '[1,2]')")
    with pytest.raises(errors.DataException, match="different vector dimensions 3 and 4"):
        conn.execute("SELECT '[1,2,3]'::vector <-> '[1,2,3,4]'")


def test_syntax_error_has_position(conn: psycopg.Connection) -> None:
    with pytest.raises(errors.SyntaxError) as caught:
        conn.execute("SELECT * FORM pg_docs")
    assert caught.value.diag.statement_position == "10"


def test_transaction_block_status(conn: psycopg.Connection, docs) -> None:
    conn.autocommit = False
    conn.execute("SELECT 1")
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    with pytest.raises(errors.UndefinedTable):
        conn.execute("SELECT * FROM nope")
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
    with pytest.raises(errors.InFailedSqlTransaction):
        conn.execute("SELECT 1")
    conn.rollback()
    assert conn.execute("SELECT 1").fetchone() == (1,)
    conn.commit()
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_session_commands_clients_send(conn: psycopg.Connection) -> None:
    conn.execute("SELECT 1", prepare=True)
    for sql in ("DEALLOCATE ALL", "CLOSE ALL", "UNLISTEN *", "LISTEN channel", "DISCARD ALL"):
        conn.execute(sql)
    with pytest.raises(errors.InvalidSqlStatementName):
        conn.execute("DEALLOCATE missing_statement")
    with pytest.raises(errors.FeatureNotSupported, match="TRUNCATE"):
        conn.execute("TRUNCATE pg_docs")
    assert conn.execute("SELECT 1").fetchone() == (1,)


def test_psycopg_deallocates_when_its_prepared_cache_overflows(server) -> None:
    with psycopg.connect(server.dsn, autocommit=True) as connection:
        connection.prepared_max = 2
        for i in range(6):
            assert connection.execute(f"SELECT {i}", prepare=True).fetchone() == (i,)


def test_set_local_lasts_until_the_end_of_the_block(conn: psycopg.Connection) -> None:
    conn.execute("SET application_name = 'outer'")
    conn.execute("BEGIN")
    conn.execute("SET LOCAL application_name = 'inner'")
    assert conn.execute("SHOW application_name").fetchone() == ("inner",)
    conn.execute("COMMIT")
    assert conn.execute("SHOW application_name").fetchone() == ("outer",)
    assert conn.info.parameter_status("application_name") == "outer"
