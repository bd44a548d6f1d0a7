"""pgvector's functions over the wire: the names Postgres gives their columns, vector literals
checked as pgvector checks them wherever DuckDB runs the query, and `$n` in a simple query."""

from __future__ import annotations

import psycopg
import pytest

from sqlvec.testing import ServerProcess
from tests.e2e.test_psql import psql


def test_a_function_names_its_column_even_where_it_becomes_an_operator(
    conn: psycopg.Connection,
) -> None:
    cursor = conn.execute(
        "SELECT l2_distance('[1,2]'::vector, '[2,3]'), cosine_distance('[1,0]'::vector, '[0,1]'),"
        " inner_product('[1,2]'::vector, '[3,4]'), l1_distance('[1,2]'::vector, '[2,4]')::real,"
        " '[1]'::vector <-> '[2]', l2_distance('[1]'::vector, '[2]') + 1,"
        " vector_dims('[1,2]'::vector), vector_norm('[3,4]'::vector) AS n"
    )
    names = [column.name for column in cursor.description]
    assert names == [
        "l2_distance",
        "cosine_distance",
        "inner_product",
        "l1_distance",
        "?column?",
        "?column?",
        "vector_dims",
        "n",
    ]
    assert cursor.fetchone() == pytest.approx((2**0.5, 1.0, 11.0, 3.0, 1.0, 2.0, 2, 5.0))


def test_a_search_projecting_a_distance_function_names_it(conn: psycopg.Connection) -> None:
    conn.execute("DROP TABLE IF EXISTS fn_names")
    conn.execute("CREATE TABLE fn_names (id bigint PRIMARY KEY, embedding vector(2))")
    conn.execute("INSERT INTO fn_names VALUES (1, '[0,0]'), (2, '[3,4]')")
    cursor = conn.execute(
        "SELECT id, l2_distance(embedding, %s) FROM fn_names "
        "ORDER BY l2_distance(embedding, %s) LIMIT 1",
        ("[3,4]", "[3,4]"),
    )
    assert [column.name for column in cursor.description] == ["id", "l2_distance"]
    assert cursor.fetchall() == [(2, 0.0)]


@pytest.mark.parametrize(
    ("sql", "sqlstate", "message"),
    [
        ("SELECT vector_dims('[1,2'::vector)", "22P02", "invalid input syntax for type vector"),
        ("SELECT vector_norm('[1,nan]'::vector)", "22000", "NaN not allowed in vector"),
        ("SELECT vector_dims('[1,2]'::vector(3))", "22000", "expected 3 dimensions, not 2"),
        ("SELECT l2_normalize('[1,1e39]'::vector)", "22003", "out of range for type vector"),
    ],
)
def test_bad_vector_literals_in_duckdb_queries_are_refused(
    conn: psycopg.Connection, sql: str, sqlstate: str, message: str
) -> None:
    with pytest.raises(psycopg.Error) as raised:
        conn.execute(sql)
    assert raised.value.sqlstate == sqlstate
    assert message in str(raised.value)
    assert conn.execute("SELECT vector_dims('[1,2]'::vector)").fetchone() == (2,)


def test_a_simple_query_with_a_parameter_is_refused(server: ServerProcess) -> None:
    result = psql(server, "-v", "VERBOSITY=verbose", "-c", "SELECT 1, $2::int")
    assert result.returncode == 1
    assert "42P02: there is no parameter $2" in result.stderr
    assert psql(server, "-A", "-t", "-c", "SELECT 7").stdout.strip() == "7"


@pytest.mark.parametrize("prepare", [False, True])
def test_parameters_in_vector_arithmetic_and_functions(
    conn: psycopg.Connection, prepare: bool
) -> None:
    conn.execute("DROP TABLE IF EXISTS fn_params")
    conn.execute("CREATE TABLE fn_params (id bigint PRIMARY KEY, embedding vector(3))")
    conn.execute("INSERT INTO fn_params VALUES (1, '[1,0,0]'), (2, '[0,3,4]')")
    shifted = conn.execute(
        "SELECT id, embedding + %s::vector FROM fn_params ORDER BY embedding <-> %s LIMIT 1",
        ("[1,1,1]", "[0,3,4]"),
        prepare=prepare,
    ).fetchall()
    assert shifted == [(2, "[1,4,5]")]
    rows = conn.execute(
        "SELECT id, l1_distance(embedding, %s::vector), subvector(embedding, %s, 2) "
        "FROM fn_params ORDER BY id",
        ("[1,1,1]", 2),
        prepare=prepare,
    ).fetchall()
    assert rows == [(1, 2.0, "[0,0]"), (2, 6.0, "[3,4]")]
    with pytest.raises(psycopg.Error) as raised:
        conn.execute("SELECT %s::vector - '[1,1]'", ("[1,2,3]",), prepare=prepare)
    assert raised.value.sqlstate == "22000"


def test_a_cast_names_its_column_after_the_type_as_postgres_does(conn: psycopg.Connection) -> None:
    cursor = conn.execute(
        "SELECT 1::int, 1::bigint, '2'::real, 2::double precision, 'x'::text, true::boolean, "
        "('[1,2]'::vector <-> '[1,3]')::int, l2_distance('[1]'::vector, '[2]')::real"
    )
    names = [column.name for column in cursor.description]
    assert names == ["int4", "int8", "float4", "float8", "text", "bool", "int4", "l2_distance"]
    assert cursor.fetchone() == (1, 1, 2.0, 2.0, "x", True, 1, 1.0)
