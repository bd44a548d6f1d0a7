"""INSERT ... SELECT into a collection over the wire: rows from another collection, a DuckDB
table, a vector search or the collection itself; RETURNING; inside a transaction block; and
the errors Postgres gives for a mismatched select list or values."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors


@pytest.fixture
def tables(conn: psycopg.Connection) -> psycopg.Connection:
    for name in ("is_src", "is_dst", "is_plain"):
        conn.execute(f"DROP TABLE IF EXISTS {name}")
    conn.execute("CREATE TABLE is_src (id BIGINT PRIMARY KEY, title TEXT, embedding VECTOR(2))")
    conn.execute(
        "INSERT INTO is_src VALUES (1, 'a', '[0,0]'), (2, 'b', '[1,0]'), (3, 'c', '[5,4]'), "
        "(4, 'd', '[0,2]')"
    )
    conn.execute("CREATE TABLE is_dst (id BIGSERIAL PRIMARY KEY, title TEXT, embedding VECTOR(2))")
    conn.execute("CREATE TABLE is_plain (name TEXT, v TEXT)")  # no vector column: DuckDB's
    conn.execute("INSERT INTO is_plain VALUES ('x', '[2,2]'), ('y', '[3,3]')")
    return conn


def _rows(conn: psycopg.Connection, table: str) -> list[tuple[object, ...]]:
    return conn.execute(f"SELECT id, title, embedding::text FROM {table} ORDER BY id").fetchall()


def test_rows_of_another_collection_are_inserted(tables: psycopg.Connection) -> None:
    cursor = tables.execute(
        "INSERT INTO is_dst (id, title, embedding) SELECT * FROM is_src WHERE id < 3"
    )
    assert cursor.statusmessage == "INSERT 0 2"
    assert _rows(tables, "is_dst") == [(1, "a", "[0,0]"), (2, "b", "[1,0]")]
    # The copies are searchable like any row.
    nearest = tables.execute("SELECT id FROM is_dst ORDER BY embedding <-> '[1,0.1]' LIMIT 1")
    assert nearest.fetchall() == [(2,)]


def test_a_duckdb_table_s_text_becomes_vectors_and_ids_are_generated(
    tables: psycopg.Connection,
) -> None:
    returned = tables.execute(
        "INSERT INTO is_dst (title, embedding) SELECT name, v FROM is_plain ORDER BY name "
        "RETURNING title, embedding::text"
    ).fetchall()
    assert returned == [("x", "[2,2]"), ("y", "[3,3]")]
    assert [row[0] for row in _rows(tables, "is_dst")] == [1, 2]


def test_the_rows_of_a_vector_search_are_inserted(tables: psycopg.Connection) -> None:
    tables.execute(
        "INSERT INTO is_dst (id, title, embedding) "
        "SELECT id + 100, title, embedding FROM is_src ORDER BY embedding <-> '[0,0.2]' LIMIT 2"
    )
    assert _rows(tables, "is_dst") == [(101, "a", "[0,0]"), (102, "b", "[1,0]")]


def test_a_collection_copied_into_itself_inserts_what_it_held(tables: psycopg.Connection) -> None:
    tables.execute("INSERT INTO is_dst (title, embedding) SELECT title, embedding FROM is_src")
    cursor = tables.execute(
        "INSERT INTO is_dst (title, embedding) SELECT title, embedding FROM is_dst"
    )
    assert cursor.statusmessage == "INSERT 0 4"
    assert tables.execute("SELECT count(*) FROM is_dst").fetchone() == (8,)
    # Ids still unique: a copy with its ids collides, and nothing of it is inserted.
    with pytest.raises(errors.UniqueViolation):
        tables.execute("INSERT INTO is_dst (id, title, embedding) SELECT * FROM is_dst")
    assert tables.execute("SELECT count(*) FROM is_dst").fetchone() == (8,)


def test_inside_a_block_the_select_sees_the_block_and_rollback_undoes(
    tables: psycopg.Connection,
) -> None:
    tables.autocommit = False
    try:
        tables.execute("INSERT INTO is_src VALUES (5, 'e', '[0,0.1]')")
        # The block wrote is_src: its search (exact in DuckDB) sees row 5.
        tables.execute(
            "INSERT INTO is_dst (id, title, embedding) SELECT * FROM is_src ORDER BY embedding <-> '[0,0.1]' LIMIT 1"
        )
        assert _rows(tables, "is_dst") == [(5, "e", "[0,0.1]")]
        tables.rollback()
    finally:
        tables.autocommit = True
    assert _rows(tables, "is_dst") == []
    assert tables.execute("SELECT count(*) FROM is_src").fetchone() == (4,)


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("INSERT INTO is_dst (title) SELECT title, embedding FROM is_src", errors.SyntaxError),
        ("INSERT INTO is_dst (title, embedding) SELECT title FROM is_src", errors.SyntaxError),
        (
            "INSERT INTO is_dst (title, embedding) SELECT name, name FROM is_plain",
            errors.InvalidTextRepresentation,
        ),
        ("INSERT INTO is_dst (title, embedding) SELECT 't', '[1,2,3]'", errors.DataException),
        (
            "INSERT INTO is_dst (title, embedding) SELECT title, nope FROM is_src",
            errors.UndefinedColumn,
        ),
        ("INSERT INTO is_dst (embedding) SELECT embedding FROM no_such", errors.UndefinedTable),
        ("INSERT INTO is_dst DEFAULT VALUES", errors.FeatureNotSupported),
    ],
)
def test_bad_selects_fail_and_insert_nothing(
    tables: psycopg.Connection, sql: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        tables.execute(sql)
    assert _rows(tables, "is_dst") == []
    assert tables.execute("SELECT 1").fetchone() == (1,)  # the connection is usable


def test_explain_shows_the_insert_over_its_query(tables: psycopg.Connection) -> None:
    sql = (
        "EXPLAIN INSERT INTO is_dst (title, embedding) "
        "SELECT title, embedding FROM is_src ORDER BY embedding <-> '[0,0]' LIMIT 2"
    )
    lines = [row[0] for row in tables.execute(sql)]
    assert lines[0] == "Insert on is_dst"
    assert lines[1] == "  Vector Search on is_src"
    assert "    Top-K: 2" in lines
    assert _rows(tables, "is_dst") == []  # EXPLAIN runs nothing


def test_a_lateral_batch_and_a_partition(tables: psycopg.Connection) -> None:
    """Each row's nearest other row, found in one batched search, into a partition."""
    tables.execute("CREATE PARTITION near ON is_dst")
    tables.execute(
        "INSERT INTO is_dst PARTITION (near) (id, title, embedding) "
        "SELECT q.id, r.title, r.embedding FROM is_src q CROSS JOIN LATERAL "
        "(SELECT title, embedding FROM is_src WHERE id <> q.id "
        "ORDER BY embedding <-> q.embedding LIMIT 1) r"
    )
    near = "SELECT id, title FROM is_dst PARTITION (near) ORDER BY embedding <-> '[0,0]' LIMIT 9"
    assert sorted(tables.execute(near).fetchall()) == [(1, "b"), (2, "a"), (3, "d"), (4, "a")]


def test_parameters_of_the_query_are_bound(tables: psycopg.Connection) -> None:
    sql = (
        "INSERT INTO is_dst (id, title, embedding) SELECT id, title, embedding FROM is_src "
        "WHERE id <> %s ORDER BY embedding <-> %s LIMIT 1 RETURNING id"
    )
    assert tables.execute(sql, (1, "[0,0]"), prepare=True).fetchall() == [(2,)]
    assert tables.execute(sql, (3, "[5,5]"), prepare=True).fetchall() == [(4,)]


def test_default_values_is_refused_by_name(tables: psycopg.Connection) -> None:
    with pytest.raises(errors.FeatureNotSupported, match="DEFAULT VALUES is not supported"):
        tables.execute("INSERT INTO is_dst DEFAULT VALUES")
