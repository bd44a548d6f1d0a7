"""The emulated pg_catalog against the SQL real clients send (tests/e2e/catalog_queries/):
psql 15's meta-commands, replayed statement by statement, and the drivers' type lookups."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlglot
from sqlglot import exp

from sqlvec.testing import ServerProcess
from sqlvec.types import HALFVEC_OID, SPARSEVEC_OID, VECTOR_OID

QUERIES = Path(__file__).parent / "catalog_queries" / "psql15.sql"
TAB_COMPLETION = Path(__file__).parent / "catalog_queries" / "psql15_tab_completion.sql"


def _psql_queries(path: Path = QUERIES) -> list[tuple[str, str]]:
    text = path.read_text()
    parts = re.split(r"^-- (psql .*)$", text, flags=re.M)
    return [(parts[i], parts[i + 1].strip()) for i in range(1, len(parts), 2)]


@pytest.fixture(scope="module")
def catalog_conn(server: ServerProcess) -> Iterator[psycopg.Connection]:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS items")
        conn.execute(
            "CREATE TABLE items (id BIGINT PRIMARY KEY, category TEXT NOT NULL, "
            "embedding vector(3))"
        )
        conn.execute("CREATE INDEX items_embedding_idx ON items USING hnsw (embedding)")
        yield conn
        conn.execute("DROP TABLE IF EXISTS items")


@pytest.mark.parametrize(
    ("label", "sql"), _psql_queries() + _psql_queries(TAB_COMPLETION), ids=lambda v: v
)
def test_psql_meta_command_query_runs_with_postgres_columns(
    catalog_conn: psycopg.Connection, label: str, sql: str
) -> None:
    oid = catalog_conn.execute("SELECT 'items'::regclass::oid").fetchone()[0]
    cursor = catalog_conn.execute(sql.replace("{oid}", str(oid)))
    # PostgreSQL's shape: one column per select-list entry, named by its alias where given.
    select = sqlglot.parse_one(sql.replace("{oid}", "0"), read="postgres")
    while isinstance(select, exp.SetOperation):
        select = select.this
    assert isinstance(select, exp.Select)
    assert cursor.description is not None
    assert len(cursor.description) == len(select.expressions), label
    for column, node in zip(cursor.description, select.expressions, strict=True):
        if isinstance(node, exp.Alias):
            assert column.name == node.alias, label
    cursor.fetchall()


def test_describe_table_rows(catalog_conn: psycopg.Connection) -> None:
    queries = dict(_psql_queries())
    oid = catalog_conn.execute("SELECT 'items'::regclass::oid").fetchone()[0]
    columns = catalog_conn.execute(queries["psql \\d items (3/9)"].replace("{oid}", str(oid)))
    rows = [(r[0], r[1], r[3]) for r in columns.fetchall()]
    assert rows == [
        ("id", "bigint", True),
        ("category", "text", True),
        ("embedding", "vector(3)", True),  # sqlvec requires every row's vector
    ]
    tables = catalog_conn.execute(queries["psql \\dt (1/1)"]).fetchall()
    assert ("public", "items", "table", "sqlvec") in tables
    indexes = catalog_conn.execute(queries["psql \\di (1/1)"]).fetchall()
    assert ("public", "items_embedding_idx", "index", "sqlvec", "items") in indexes
    assert ("public", "items_pkey", "index", "sqlvec", "items") in indexes


def test_describe_functions_operators_and_extensions(catalog_conn: psycopg.Connection) -> None:
    queries = dict(_psql_queries())
    functions = catalog_conn.execute(queries["psql \\df (1/1)"]).fetchall()
    assert ("public", "l2_distance", "double precision", "vector, vector", "func") in functions
    assert ("public", "vector_dims", "integer", "vector", "func") in functions
    assert ("public", "avg", "vector", "vector", "agg") in functions
    assert all(row[0] == "public" for row in functions)
    operators = catalog_conn.execute(queries["psql \\do (1/1)"]).fetchall()
    assert ("public", "<->", "vector", "vector", "double precision", None) in operators
    assert ("public", "<~>", "bit", "bit", "double precision", None) in operators
    extensions = catalog_conn.execute(queries["psql \\dx (1/1)"]).fetchall()
    assert (
        "vector",
        "0.8.0",
        "public",
        "vector data type and ivfflat and hnsw access methods",
    ) in extensions
    for label in ("\\dd", "\\dc", "\\des", "\\dC", "\\dy", "\\dl"):
        assert catalog_conn.execute(queries[f"psql {label} (1/1)"]).fetchall() == [], label


# label -> names the first two columns (a relation or other object, a schema) must hold, and
# names they must not hold; psql offers them as completions.
TAB_EXPECTED: dict[str, tuple[set[str], set[str]]] = {
    "SELECT * FROM d<TAB> (tables)": ({"docs"}, {"items", "docs_pkey"}),
    "SELECT * FROM <TAB> (tables)": (
        {"docs", "items", "public", "information_schema"},
        {"pg_catalog", "pg_toast", "docs_pkey", "pg_class"},
    ),
    "\\d d<TAB> (relations)": ({"docs", "docs_pkey", "docs_embedding_idx"}, {"items"}),
    "\\d docs<TAB> (relations)": ({"docs", "docs_pkey", "docs_embedding_idx"}, {"items"}),
    "DROP TABLE <TAB> (tables)": ({"docs", "items", "public"}, {"docs_pkey"}),
    "SELECT category FROM docs WHERE <TAB> (attributes)": (
        {"id", "category", "embedding"},
        set(),
    ),
    "SELECT category FROM docs WHERE e<TAB> (attributes)": ({"embedding"}, {"category"}),
    "SET <TAB> (settings)": (
        {"ef_search", "nprobe", "statement_timeout", "search_path"},
        {"server_version", "is_superuser"},
    ),
    "SET ef<TAB> (settings)": ({"ef_search"}, {"nprobe"}),
    "SHOW <TAB> (settings)": ({"ef_search", "server_version"}, set()),
    "\\c <TAB> (databases)": ({"sqlvec"}, set()),
    "ALTER TABLE docs OWNER TO <TAB> (roles)": ({"sqlvec"}, set()),
    "CREATE INDEX ON docs USING <TAB> (index access methods)": (
        {"hnsw", "ivfflat", "btree"},
        {"heap"},
    ),
    "CREATE INDEX ON docs USING h<TAB> (index access methods)": ({"hnsw"}, {"ivfflat"}),
    "DROP INDEX <TAB> (indexes)": ({"docs_pkey", "docs_embedding_idx", "items_pkey"}, {"docs"}),
    "\\dn <TAB> (schemas)": ({"public", "pg_catalog"}, set()),
    "CREATE EXTENSION <TAB> (available extensions)": (set(), {"vector"}),  # installed already
    "DROP FUNCTION <TAB> (functions)": ({"l2_distance", "vector_dims", "avg"}, {"checkpoint"}),
    "\\dT <TAB> (datatypes)": ({"vector", "halfvec", "int4", "text"}, {"_vector"}),
    "INSERT INTO <TAB> (updatable relations)": ({"docs", "items"}, {"docs_pkey"}),
    "ANALYZE <TAB> (analyzable relations)": ({"docs"}, {"docs_pkey"}),
    "ALTER TABLE docs DROP CONSTRAINT <TAB> (constraints)": ({"docs_pkey"}, {"items_pkey"}),
    "TRUNCATE <TAB> (truncatable relations)": ({"docs"}, {"docs_pkey"}),
}


def test_tab_completion_queries_offer_sqlvec_names(catalog_conn: psycopg.Connection) -> None:
    queries = _psql_queries(TAB_COMPLETION)
    assert sorted(label.removeprefix("psql tab ") for label, _ in queries) == sorted(TAB_EXPECTED)
    catalog_conn.execute("DROP TABLE IF EXISTS docs")
    catalog_conn.execute(
        "CREATE TABLE docs (id bigint PRIMARY KEY, category int, embedding vector(128))"
    )
    catalog_conn.execute("CREATE INDEX docs_embedding_idx ON docs USING hnsw (embedding)")
    try:
        for label, sql in queries:
            rows = catalog_conn.execute(sql).fetchall()
            names = {value for row in rows for value in row[:2] if value is not None}
            present, absent = TAB_EXPECTED[label.removeprefix("psql tab ")]
            assert present <= names, (label, names)
            assert not absent & names, (label, names)
    finally:
        catalog_conn.execute("DROP TABLE docs")


def test_type_lookups(catalog_conn: psycopg.Connection) -> None:
    row = catalog_conn.execute(
        "SELECT to_regtype('vector'), to_regtype('nope'), 'vector'::regtype::text, "
        "to_regtype('bit') IS NOT NULL, to_regtype('integer')::regtype::text"
    ).fetchone()
    assert row == (16385, None, "vector", True, "integer")
    # OID 0 prints as '-' (asyncpg reads `elemtype::regtype::text` of every type it looks up)
    row = catalog_conn.execute("SELECT 0::regtype::text, 0::regclass::text, 0::regnamespace::text")
    assert row.fetchone() == ("-", "-", "-")
    cursor = catalog_conn.execute(
        "SELECT t.oid, t.typname, t.typtype, t.typarray, n.nspname FROM pg_catalog.pg_type t "
        "JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typname IN ('vector', '_vector') "
        "ORDER BY t.oid"
    )
    assert [c.type_code for c in cursor.description] == [26, 25, 18, 26, 25]
    assert cursor.fetchall() == [
        (16385, "vector", "b", 16386, "public"),
        (16386, "_vector", "b", 0, "public"),
    ]
    assert catalog_conn.execute("SELECT current_setting('jit')").fetchone() == ("off",)
    assert catalog_conn.execute("SELECT set_config('jit', 'off', false)").fetchone() == ("off",)


def test_catalog_follows_ddl(catalog_conn: psycopg.Connection) -> None:
    sql = "SELECT relname FROM pg_class WHERE relname LIKE 'ddl_follow%' ORDER BY 1"
    assert catalog_conn.execute(sql).fetchall() == []
    catalog_conn.execute("CREATE TABLE ddl_follow (id BIGINT PRIMARY KEY, v vector(2))")
    try:
        assert catalog_conn.execute(sql).fetchall() == [("ddl_follow",), ("ddl_follow_pkey",)]
    finally:
        catalog_conn.execute("DROP TABLE ddl_follow")
    assert catalog_conn.execute(sql).fetchall() == []


PGJDBC_QUERIES = Path(__file__).parent / "catalog_queries" / "pgjdbc.sql"


def _pgjdbc_queries() -> dict[str, tuple[str, dict[str, str]]]:
    """label -> (SQL in psycopg's placeholder style, its parameters)."""
    parts = re.split(r"^-- (pgjdbc .*)$", PGJDBC_QUERIES.read_text(), flags=re.M)
    queries = {}
    for label, body in zip(parts[1::2], parts[2::2], strict=True):
        params: dict[str, str] = {}
        match = re.match(r"\s*-- params: (.*)\n", body)
        if match:
            params = {f"p{i}": v for i, v in enumerate(match[1].split(", "), start=1)}
            body = body[match.end() :]
        sql = re.sub(r"\$(\d+)", r"%(p\1)s", body.strip().replace("%", "%%"))
        queries[label] = (sql, params)
    return queries


_GET_COLUMNS = [
    *("nspname", "relname", "attname", "atttypid", "attnotnull", "atttypmod", "attlen"),
    *("typtypmod", "attnum", "attidentity", "attgenerated", "adsrc", "description"),
    *("typbasetype", "typtype"),
]
_GET_TABLES = [
    *("table_cat", "table_schem", "table_name", "table_type", "remarks", "type_cat"),
    *("type_schem", "type_name", "self_referencing_col_name", "ref_generation"),
]
_GET_PRIMARY_KEYS = ["table_cat", "table_schem", "table_name", "column_name", "key_seq", "pk_name"]
# PostgreSQL's column names (unquoted aliases fold to lower case) and the rows pgjdbc reads.
PGJDBC_EXPECTED: dict[str, tuple[list[str], list[tuple[object, ...]]]] = {
    "42.5.5 TypeInfoCache.getPGType(name)": (["oid", "typname"], [(16385, "vector")]),
    "42.5.5 TypeInfoCache.getPGType(oid)": (
        ["is_array", "typtype", "typname", "oid"],
        [(False, "b", "vector", 16385)],
    ),
    "42.5.5 getTables(null, public, items, TABLE)": (
        _GET_TABLES,
        [(None, "public", "items", "TABLE", None, "", "", "", "", "")],
    ),
    "42.5.5 getColumns(null, public, items, %)": (_GET_COLUMNS, []),
    "42.5.5 getPrimaryKeys(null, public, items)": (
        _GET_PRIMARY_KEYS,
        [(None, "public", "items", "id", 1, "items_pkey")],
    ),
    "42.7.13 ResultSetMetaData.isNullable": (
        ["oid", "attnum", "attname", "relname", "nspname", "?column?", "?column?"],
        [
            ("{oid}", 1, "id", "items", "public", True, None),
            ("{oid}", 3, "embedding", "items", "public", True, None),
        ],
    ),
    "42.7.13 getTables(null, public, items, TABLE)": (
        [name.upper() for name in _GET_TABLES],
        [("sqlvec", "public", "items", "TABLE", None, "", "", "", "", "")],
    ),
    "42.7.13 Connection.getCatalog": (["current_catalog"], [("sqlvec",)]),
    "42.7.13 getColumns(null, public, items, %)": (["current_database", *_GET_COLUMNS], []),
    "42.7.13 getPrimaryKeys(null, public, items)": (
        [name.upper() for name in _GET_PRIMARY_KEYS],
        [("sqlvec", "public", "items", "id", 1, "items_pkey")],
    ),
}
# getColumns: id bigint, category text NOT NULL, embedding vector(3) (typmod 3)
_COLUMN_ROWS = [
    ("public", "items", "id", 20, True, -1, 8, -1, 1, None, None, None, None, 0, "b"),
    ("public", "items", "category", 25, True, -1, -1, -1, 2, None, None, None, None, 0, "b"),
    ("public", "items", "embedding", 16385, True, 3, -1, -1, 3, None, None, None, None, 0, "b"),
]


def test_pgjdbc_catalog_queries_answer_like_postgres(catalog_conn: psycopg.Connection) -> None:
    oid = catalog_conn.execute("SELECT 'items'::regclass::oid").fetchone()[0]
    queries = _pgjdbc_queries()
    assert list(queries) == ["pgjdbc " + label for label in PGJDBC_EXPECTED]
    for label, (names, rows) in PGJDBC_EXPECTED.items():
        sql, params = queries["pgjdbc " + label]
        cursor = catalog_conn.execute(sql.replace("{oid}", str(oid)), params)
        assert cursor.description is not None
        assert [c.name for c in cursor.description] == names, label
        got = cursor.fetchall()
        if "getColumns" in label:
            rows = [("sqlvec", *r) if "42.7" in label else r for r in _COLUMN_ROWS]
        assert got == [tuple(oid if v == "{oid}" else v for v in r) for r in rows], label
    # getColumns' types are the ones pgjdbc reads with getInt/getBoolean/getString
    cursor = catalog_conn.execute(*queries["pgjdbc 42.5.5 getColumns(null, public, items, %)"])
    assert cursor.description is not None
    assert [c.type_code for c in cursor.description][3:11] == [26, 16, 23, 21, 23, 20, 18, 18]


# SQLAlchemy 2's inspector and asyncpg's type introspection, captured against PostgreSQL 18 with
# the answers' column names and type OIDs (the files' headers say how).
SQLALCHEMY_QUERIES = Path(__file__).parent / "catalog_queries" / "sqlalchemy2.sql"
ASYNCPG_QUERIES = Path(__file__).parent / "catalog_queries" / "asyncpg.sql"
_LITERAL = re.compile(r"'((?:[^']|'')*)'|NULL")


@dataclass(frozen=True)
class CapturedQuery:
    label: str
    sql: str  # psycopg's placeholder style; {oid} stands for the items table's OID
    params: dict[str, str | None]
    columns: list[tuple[str, int]]  # PostgreSQL's answer: (name, type OID) per column


def _captured_queries(path: Path, client: str) -> list[CapturedQuery]:
    """`-- <client> <version> <label>`, `-- params:` (quoted as PostgreSQL logs them), and
    `-- columns: name:oid, ...` lines, then the SQL as the client sent it."""
    parts = re.split(rf"^-- ({client} \d\S* .*)$", path.read_text(), flags=re.M)
    queries = []
    for label, body in zip(parts[1::2], parts[2::2], strict=True):
        body = body.lstrip("\n")
        params: dict[str, str | None] = {}
        match = re.match(r"-- params: (.*)\n", body)
        if match:
            values = [
                None if m[0] == "NULL" else m[1].replace("''", "'")
                for m in _LITERAL.finditer(match[1])
            ]
            params = {f"p{i}": v for i, v in enumerate(values, start=1)}
            body = body[match.end() :]
        match = re.match(r"-- columns: (.*)\n", body)
        assert match, label
        columns = [(n, int(o)) for n, o in (c.rsplit(":", 1) for c in match[1].split(", ") if c)]
        sql = body[match.end() :].strip()
        if params:
            sql = re.sub(r"\$(\d+)", r"%(p\1)s", sql.replace("%", "%%"))
        queries.append(CapturedQuery(label, sql, params, columns))
    return queries


_CAPTURED = _captured_queries(SQLALCHEMY_QUERIES, "sqlalchemy") + _captured_queries(
    ASYNCPG_QUERIES, "asyncpg"
)
# Types sqlvec answers otherwise: `name` columns as text and name[] as text[], a whole class
# (as test_type_lookups and the psql replays accept); void, pg_advisory_unlock_all()'s in
# asyncpg's reset query, as a NULL text (sqlvec has no void type yet).
_SQLVEC_TYPE = {19: 25, 1003: 1009, 2278: 25}


def _run_captured(conn: psycopg.Connection, query: CapturedQuery) -> psycopg.Cursor[Any]:
    oid = str(conn.execute("SELECT 'items'::regclass::oid").fetchone()[0])
    params = {k: oid if v == "{oid}" else v for k, v in query.params.items()}
    return conn.execute(query.sql.replace("{oid}", oid), params or None)


@pytest.mark.parametrize("query", _CAPTURED, ids=lambda q: q.label)
def test_captured_client_query_answers_with_postgres_columns(
    catalog_conn: psycopg.Connection, query: CapturedQuery
) -> None:
    cursor = _run_captured(catalog_conn, query)
    got = [(c.name, c.type_code) for c in cursor.description or []]
    assert got == [(name, _SQLVEC_TYPE.get(oid, oid)) for name, oid in query.columns]
    if cursor.description is not None:
        cursor.fetchall()


# label (less the client's version) -> the rows sqlvec answers for the items table, where they
# are PostgreSQL's ("{oid}": the table's OID) except where a comment says otherwise.
CAPTURED_ROWS: dict[str, list[tuple[object, ...]]] = {
    "sqlalchemy engine.connect() (2/5)": [("public",)],
    "sqlalchemy engine.connect() (5/5)": [],  # psycopg's TypeInfo for hstore: none
    "sqlalchemy has_table(items) (1/1)": [("items",)],
    "sqlalchemy get_columns(items) (1/3)": [
        ("id", "bigint", None, True, "items", None, "", None, None),
        ("category", "text", None, True, "items", None, "", None, None),
        # not null: sqlvec requires every row's vector (PostgreSQL: false)
        ("embedding", "vector(3)", None, True, "items", None, "", None, None),
    ],
    "sqlalchemy get_columns(items) (2/3)": [],  # enums
    "sqlalchemy get_pk_constraint(items) (1/2)": [("{oid}", "items")],
    "sqlalchemy get_pk_constraint(items) (2/2)": [("{oid}", ["id"], "items_pkey", None, 1, False)],
    "sqlalchemy get_indexes(items) (1/4)": [(403, "btree")],
    "sqlalchemy get_foreign_keys(items) (1/1)": [("items", None, None, None, None)],
    "sqlalchemy get_unique_constraints(items) (1/1)": [],
    "sqlalchemy get_check_constraints(items) (1/1)": [("items", None, None, None)],
    "sqlalchemy get_schema_names() (1/1)": [("information_schema",), ("public",)],
    "sqlalchemy Table(items, autoload_with=engine) (1/2)": [("items", None)],
    "sqlalchemy Table(items, autoload_with=engine) (2/2)": [
        ("{oid}", "items", None, None, None, None, None)
    ],
    "asyncpg fetch(SELECT embedding FROM items) (2/4)": [
        (VECTOR_OID, "public", "vector", "b", None, 0, None, None, None, None, 0, None, "-", None)
    ],
    "asyncpg fetch(SELECT embedding FROM items) (4/4)": [],  # the table is empty
    "asyncpg register_vector (1/3)": [(VECTOR_OID, 0, "b")],
    "asyncpg register_vector (2/3)": [(HALFVEC_OID, 0, "b")],
    "asyncpg register_vector (3/3)": [(SPARSEVEC_OID, 0, "b")],
}


def test_captured_client_queries_rows(catalog_conn: psycopg.Connection) -> None:
    oid = catalog_conn.execute("SELECT 'items'::regclass::oid").fetchone()[0]
    queries = {re.sub(r" \d\S* ", " ", q.label, count=1): q for q in _CAPTURED}
    assert set(CAPTURED_ROWS) <= set(queries)
    for label, rows in CAPTURED_ROWS.items():
        got = _run_captured(catalog_conn, queries[label]).fetchall()
        assert got == [tuple(oid if v == "{oid}" else v for v in r) for r in rows], label
    tables = _run_captured(catalog_conn, queries["sqlalchemy get_table_names() (1/1)"])
    assert ("items",) in tables.fetchall()
    # get_indexes: the hnsw index only (items_pkey is the primary key's, reported by
    # get_pk_constraint), on embedding; its access method by the OIDs of pg_am.
    indexes = _run_captured(catalog_conn, queries["sqlalchemy get_indexes(items) (3/4)"])
    assert indexes.description is not None
    names = [c.name for c in indexes.description]
    rows = [dict(zip(names, row, strict=True)) for row in indexes.fetchall()]
    assert [(r["relname"], r["indisunique"], r["has_constraint"], r["elements"]) for r in rows] == [
        ("items_embedding_idx", False, False, ["embedding"])
    ]
    methods = dict(_run_captured(catalog_conn, queries["sqlalchemy get_indexes(items) (4/4)"]))
    assert methods[rows[0]["relam"]] == "hnsw"
    opclasses = dict(_run_captured(catalog_conn, queries["sqlalchemy get_indexes(items) (2/4)"]))
    assert opclasses[rows[0]["elements_opclass"][0]] == "vector_l2_ops"  # as PostgreSQL names it
