"""Vector indexes: CREATE INDEX ... USING method (column [opclass]) WITH (...), DROP INDEX."""

from __future__ import annotations

import pytest
from sqlglot import exp

from sqlvec.errors import SyntaxError
from sqlvec.parser import CreateVectorIndex, DropVectorIndex, parse, parse_one


def assert_syntax_error(sql: str, message: str, position: int) -> None:
    with pytest.raises(SyntaxError) as info:
        parse(sql)
    assert (info.value.message, info.value.position) == (message, position)


def create(sql: str) -> CreateVectorIndex:
    node = parse_one(sql)
    assert isinstance(node, CreateVectorIndex)
    return node


def options(node: CreateVectorIndex) -> dict[str, object]:
    return {prop.name: prop.args["value"].to_py() for prop in node.args.get("options") or []}


# --- CREATE INDEX ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "method", "opclass", "expected"),
    [
        (
            "CREATE INDEX ON docs USING ivf_flat (embedding) WITH (nlist = 1024)",
            "ivf_flat",
            None,
            {"nlist": 1024},
        ),
        (
            "CREATE INDEX ON docs USING hnsw (embedding vector_cosine_ops) "
            "WITH (m = 16, ef_construction = 64)",
            "hnsw",
            "vector_cosine_ops",
            {"m": 16, "ef_construction": 64},
        ),
        (
            "CREATE INDEX ON docs USING ivfflat (embedding vector_l2_ops) WITH (lists = 100)",
            "ivfflat",
            "vector_l2_ops",
            {"lists": 100},
        ),
        (
            "CREATE INDEX ON docs USING faiss (embedding) WITH (factory = 'OPQ16,IVF4096,PQ16')",
            "faiss",
            None,
            {"factory": "OPQ16,IVF4096,PQ16"},
        ),
        ("CREATE INDEX ON docs USING IVF_SQ8 (embedding)", "ivf_sq8", None, {}),
        (
            "CREATE INDEX ON docs USING ivf_pq (embedding) WITH (nlist = 64, m = 8)",
            "ivf_pq",
            None,
            {"nlist": 64, "m": 8},
        ),
        (
            "CREATE INDEX ON docs USING nsg (embedding) WITH (search_length = 40)",
            "nsg",
            None,
            {"search_length": 40},
        ),
        ("CREATE INDEX ON docs USING flat (embedding)", "flat", None, {}),
        (
            "CREATE INDEX ON docs USING annoy (embedding)",
            "annoy",
            None,
            {},
        ),  # any word: planner checks
        (
            'CREATE INDEX ON docs USING "HNSW" (embedding VECTOR_IP_OPS)',
            "hnsw",
            "vector_ip_ops",
            {},
        ),
        ("CREATE INDEX ON docs (embedding)", None, None, {}),
        (
            "CREATE INDEX ON docs USING hnsw (embedding) WITH (ratio = 0.5, x = -1)",
            "hnsw",
            None,
            {"ratio": 0.5, "x": -1},
        ),
        (
            "CREATE INDEX ON docs USING hnsw (embedding) WITH (metric = COSINE)",
            "hnsw",
            None,
            {"metric": "cosine"},
        ),
    ],
)
def test_create_index(
    sql: str, method: str | None, opclass: str | None, expected: dict[str, object]
) -> None:
    node = create(sql)
    assert node.args.get("method") == method
    assert node.args.get("opclass") == opclass
    assert node.args["column"] == "embedding"
    assert isinstance(node.args["collection"], exp.Table)
    assert node.args["collection"].name == "docs"
    assert node.this is None  # no name given
    assert options(node) == expected
    assert not node.args.get("exists")
    assert not node.args.get("concurrently")


@pytest.mark.parametrize(
    ("sql", "name", "exists", "concurrently"),
    [
        ("CREATE INDEX docs_idx ON docs USING hnsw (embedding)", "docs_idx", False, False),
        ("CREATE INDEX Docs_Idx ON docs USING hnsw (embedding)", "docs_idx", False, False),
        ('CREATE INDEX "Docs_Idx" ON docs USING hnsw (embedding)', "Docs_Idx", False, False),
        ("CREATE INDEX IF NOT EXISTS i ON docs USING hnsw (embedding)", "i", True, False),
        ("CREATE INDEX IF NOT EXISTS ON docs USING hnsw (embedding)", None, True, False),
        ("CREATE INDEX CONCURRENTLY ON docs USING hnsw (embedding)", None, False, True),
        ("CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON docs (embedding)", "i", True, True),
    ],
)
def test_create_index_name_and_flags(
    sql: str, name: str | None, exists: bool, concurrently: bool
) -> None:
    node = create(sql)
    assert node.this == name
    assert bool(node.args.get("exists")) is exists
    assert bool(node.args.get("concurrently")) is concurrently


def test_create_index_column_is_folded() -> None:
    assert create("CREATE INDEX ON docs (Embedding)").args["column"] == "embedding"
    assert create('CREATE INDEX ON docs ("Embedding")').args["column"] == "Embedding"
    assert create("CREATE INDEX ON public.docs (e)").args["collection"].sql() == "public.docs"


def test_option_keys_are_lower_case_with_raw_key_as_written() -> None:
    node = create(
        'CREATE INDEX ON docs USING hnsw (embedding) WITH (M = 16, efConstruction = 64, "efSearch" = 8)'
    )
    props = node.args["options"]
    assert all(isinstance(prop, exp.Property) and isinstance(prop.this, exp.Var) for prop in props)
    assert [prop.name for prop in props] == ["m", "efconstruction", "efsearch"]
    assert [prop.args["raw_key"] for prop in props] == ["M", "efConstruction", "efSearch"]
    assert [prop.args["value"].to_py() for prop in props] == [16, 64, 8]


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE INDEX ON docs USING ivf_flat (embedding) WITH (nlist = 1024)",
        "CREATE INDEX ON docs USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)",
        "CREATE INDEX ON docs USING faiss (embedding) WITH (factory = 'OPQ16,IVF4096,PQ16')",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS docs_idx ON s.docs USING hnsw (embedding) WITH (efConstruction = 64)",
        'CREATE INDEX "My Index" ON docs ("Embedding")',
        "CREATE INDEX ON docs (embedding)",
    ],
)
def test_create_index_round_trips(sql: str) -> None:
    node = create(sql)
    assert node.sql(dialect="sqlvec") == sql
    assert parse_one(sql) == node


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE INDEX ON docs USING hnsw (a, b)",  # several columns
        "CREATE INDEX ON docs (lower(title))",  # an expression
        "CREATE INDEX ON docs ((a + b))",
        "CREATE INDEX ON docs (title DESC)",
        "CREATE INDEX ON docs (title text_pattern_ops NULLS FIRST)",
        'CREATE INDEX ON docs (title COLLATE "C")',
        "CREATE INDEX ON docs (year) WHERE year > 2000",  # partial
        "CREATE INDEX ON docs (id) INCLUDE (year)",
        "CREATE INDEX ON docs USING hnsw (e) WITH (m = 16) TABLESPACE fast",
        "CREATE UNIQUE INDEX ON docs (id)",
    ],
)
def test_other_index_forms_are_left_to_sqlglot(sql: str) -> None:
    # Valid Postgres the node cannot hold: sqlglot's exp.Create / exp.Command, which the
    # planner answers with 0A000, never a syntax error.
    assert not isinstance(parse_one(sql), CreateVectorIndex)


@pytest.mark.parametrize(
    ("sql", "message", "position"),
    [
        ("CREATE INDEX", "syntax error at end of input", 13),
        ("CREATE INDEX ON", "syntax error at end of input", 16),
        ("CREATE INDEX ON docs", "syntax error at end of input", 21),
        ("CREATE INDEX i docs (e)", 'syntax error at or near "docs"', 16),
        ("CREATE INDEX 1 ON docs (e)", 'syntax error at or near "1"', 14),
        ("CREATE INDEX ON docs USING", "syntax error at end of input", 27),
        ("CREATE INDEX ON docs USING (e)", 'syntax error at or near "("', 28),
        ("CREATE INDEX ON docs USING hnsw e", 'syntax error at or near "e"', 33),
        ("CREATE INDEX ON docs USING hnsw ()", 'syntax error at or near ")"', 34),
        ("CREATE INDEX ON docs USING hnsw (e", "syntax error at end of input", 35),
        ("CREATE INDEX ON docs USING hnsw (e) WITH (m = )", 'syntax error at or near ")"', 47),
        ("CREATE INDEX ON docs USING hnsw (e) WITH (m = 1,)", 'syntax error at or near ")"', 49),
        ("CREATE INDEX ON docs USING hnsw (e) WITH (m = 1 + 2)", 'syntax error at or near "+"', 49),
        ("CREATE INDEX ON docs USING hnsw (e) WITH m = 1", 'syntax error at or near "m"', 42),
        ("CREATE INDEX ON docs USING hnsw (e) WITH (m = 1", "syntax error at end of input", 48),
        ("CREATE INDEX ON docs USING hnsw (e) foo", 'syntax error at or near "foo"', 37),
        ("CREATE INDEX ON docs USING hnsw (e; SELECT 1", 'syntax error at or near ";"', 35),
    ],
)
def test_create_index_syntax_errors(sql: str, message: str, position: int) -> None:
    assert_syntax_error(sql, message, position)


# --- DROP INDEX -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "name", "collection", "exists", "concurrently", "cascade"),
    [
        ("DROP INDEX docs_idx", "docs_idx", None, False, False, False),
        ("DROP INDEX Docs_Idx", "docs_idx", None, False, False, False),
        ('DROP INDEX "Docs_Idx"', "Docs_Idx", None, False, False, False),
        ("DROP INDEX IF EXISTS docs_idx", "docs_idx", None, True, False, False),
        ("DROP INDEX CONCURRENTLY IF EXISTS i CASCADE", "i", None, True, True, True),
        ("DROP INDEX i RESTRICT", "i", None, False, False, False),
        ("DROP INDEX ON docs", None, "docs", False, False, False),
        ("DROP INDEX IF EXISTS ON public.docs", None, "public.docs", True, False, False),
        ("DROP INDEX CONCURRENTLY ON docs", None, "docs", False, True, False),
        ("DROP INDEX i ON docs", "i", "docs", False, False, False),
    ],
)
def test_drop_index(
    sql: str,
    name: str | None,
    collection: str | None,
    exists: bool,
    concurrently: bool,
    cascade: bool,
) -> None:
    node = parse_one(sql)
    assert isinstance(node, DropVectorIndex)
    assert node.this == name
    table = node.args.get("collection")
    assert (table.sql() if table else None) == collection
    assert table is None or isinstance(table, exp.Table)
    assert bool(node.args.get("exists")) is exists
    assert bool(node.args.get("concurrently")) is concurrently
    assert bool(node.args.get("cascade")) is cascade
    again = parse_one(node.sql(dialect="sqlvec"))
    assert again == node
    assert again.this == name


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("drop index if exists Docs_Idx", "DROP INDEX IF EXISTS docs_idx"),
        ('DROP INDEX "on"', 'DROP INDEX "on"'),
        ("DROP INDEX CONCURRENTLY ON docs", "DROP INDEX CONCURRENTLY ON docs"),
        ("DROP INDEX i ON docs CASCADE", "DROP INDEX i ON docs CASCADE"),
    ],
)
def test_drop_index_sql(sql: str, expected: str) -> None:
    assert parse_one(sql).sql(dialect="sqlvec") == expected


def test_qualified_drop_index_is_left_to_sqlglot() -> None:
    node = parse_one("DROP INDEX public.docs_idx")
    assert isinstance(node, exp.Drop)
    assert node.args["kind"] == "INDEX"


@pytest.mark.parametrize(
    ("sql", "message", "position"),
    [
        ("DROP INDEX", "syntax error at end of input", 11),
        ("DROP INDEX IF EXISTS", "syntax error at end of input", 21),
        ("DROP INDEX ON", "syntax error at end of input", 14),
        ("DROP INDEX i ON", "syntax error at end of input", 16),
        ("DROP INDEX 1", 'syntax error at or near "1"', 12),
        ("DROP INDEX i foo", 'syntax error at or near "foo"', 14),
    ],
)
def test_drop_index_syntax_errors(sql: str, message: str, position: int) -> None:
    assert_syntax_error(sql, message, position)
