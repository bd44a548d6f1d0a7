"""Collection DDL: CREATE / DROP COLLECTION, CREATE / DROP TABLE (pgvector style), SHOW."""

from __future__ import annotations

import pytest
from sqlglot import exp

from sqlvec.errors import SyntaxError
from sqlvec.parser import CreateCollection, DropCollection, ShowCollections, parse, parse_one

DESIGN_COLLECTION = """
CREATE COLLECTION IF NOT EXISTS docs (
    id BIGINT PRIMARY KEY,
    title TEXT, year INT,
    embedding VECTOR(256)
) WITH (metric = 'l2', segment_rows = 1000000)
"""


def create(sql: str) -> CreateCollection:
    node = parse_one(sql)
    assert isinstance(node, CreateCollection)
    return node


def options(node: CreateCollection) -> dict[str, object]:
    return {prop.name: prop.args["value"].to_py() for prop in node.args.get("options") or []}


def columns(node: CreateCollection) -> dict[str, exp.DataType]:
    return {
        col.name: col.args["kind"]
        for col in node.this.expressions
        if isinstance(col, exp.ColumnDef)
    }


def test_design_create_collection() -> None:
    node = create(DESIGN_COLLECTION)
    assert node.args["kind"] == "COLLECTION"
    assert node.args["exists"] is True
    assert isinstance(node.this, exp.Schema)
    assert node.this.this.name == "docs"
    kinds = columns(node)
    assert [name for name in kinds] == ["id", "title", "year", "embedding"]
    assert kinds["id"].is_type(exp.DType.BIGINT)
    assert kinds["title"].is_type(exp.DType.TEXT)
    assert kinds["embedding"].is_type(exp.DType.VECTOR)
    assert kinds["embedding"].expressions[0].this.to_py() == 256
    assert options(node) == {"metric": "l2", "segment_rows": 1000000}


def test_column_primary_key_is_kept() -> None:
    node = create(DESIGN_COLLECTION)
    id_column = node.this.expressions[0]
    assert id_column.find(exp.PrimaryKeyColumnConstraint) is not None


def test_option_values_are_literals() -> None:
    values = [prop.args["value"] for prop in create(DESIGN_COLLECTION).args["options"]]
    assert values[0].is_string
    assert values[1].is_number


def test_pgvector_create_table() -> None:
    node = create("CREATE TABLE items (id bigserial PRIMARY KEY, embedding vector(3))")
    assert node.args["kind"] == "TABLE"
    assert not node.args.get("exists")
    assert not node.args.get("options")
    embedding = columns(node)["embedding"]
    assert embedding.is_type(exp.DType.VECTOR)
    assert embedding.expressions[0].this.to_py() == 3


def test_table_level_primary_key_is_kept() -> None:
    node = create("CREATE TABLE docs (id BIGINT, embedding vector(2), PRIMARY KEY (id))")
    constraint = node.this.expressions[-1]
    assert isinstance(constraint, exp.PrimaryKey)
    assert [part.name for part in constraint.expressions] == ["id"]


def test_create_table_keeps_with_options() -> None:
    node = create("CREATE TABLE public.docs (e vector(2)) WITH (metric = 'cosine')")
    assert node.this.this.sql() == "public.docs"
    assert options(node) == {"metric": "cosine"}


@pytest.mark.parametrize(
    ("with_clause", "expected"),
    [
        ("(METRIC = 'ip')", {"metric": "ip"}),  # keys are lower-cased
        ("(metric = COSINE)", {"metric": "cosine"}),  # bare words fold like identifiers
        ('(metric = "L2")', {"metric": "L2"}),  # quoted identifiers keep their case
        ("(nlist = -1, ratio = 0.5)", {"nlist": -1, "ratio": 0.5}),
        ("(autovacuum_enabled)", {"autovacuum_enabled": "true"}),  # bare key means true
        ("(toast.x = true)", {"toast.x": "true"}),
    ],
)
def test_option_forms(with_clause: str, expected: dict[str, object]) -> None:
    assert options(create(f"CREATE COLLECTION c (e vector(2)) WITH {with_clause}")) == expected


def test_option_keys_keep_their_case_in_raw_key() -> None:
    node = create('CREATE COLLECTION c (e vector(2)) WITH (Segment_Rows = 10, "Metric" = ip)')
    keys = [(prop.name, prop.args["raw_key"]) for prop in node.args["options"]]
    assert keys == [("segment_rows", "Segment_Rows"), ("metric", "Metric")]
    assert node.sql(dialect="sqlvec").endswith("WITH (Segment_Rows = 10, Metric = 'ip')")


def test_table_without_columns() -> None:
    node = create("CREATE TABLE t ()")
    assert node.this.expressions == []
    assert node.sql(dialect="sqlvec") == "CREATE TABLE t ()"


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE t AS SELECT 1",
        "CREATE TEMP TABLE t (a int)",
        "CREATE TABLE t (a int) PARTITION BY RANGE (a)",
        "CREATE UNLOGGED TABLE t (a int)",
    ],
)
def test_other_create_table_forms_are_not_collections(sql: str) -> None:
    # Left to sqlglot (exp.Create or exp.Command); the planner rejects them.
    assert not isinstance(parse_one(sql), CreateCollection)


@pytest.mark.parametrize(
    ("sql", "message", "position"),
    [
        ("CREATE COLLECTION docs", "syntax error at end of input", 23),
        ("CREATE TABLE t", "syntax error at end of input", 15),
        ("CREATE TABLE t (a int,)", 'syntax error at or near ")"', 23),
        ("CREATE COLLECTION d (a int) foo", 'syntax error at or near "foo"', 29),
        ("CREATE COLLECTION d (a int) WITH (m = )", 'syntax error at or near ")"', 39),
        ("CREATE COLLECTION d (a int) WITH m = 1", 'syntax error at or near "m"', 34),
    ],
)
def test_create_syntax_errors(sql: str, message: str, position: int) -> None:
    with pytest.raises(SyntaxError) as info:
        parse(sql)
    assert (info.value.message, info.value.position) == (message, position)


@pytest.mark.parametrize(
    "sql",
    [
        DESIGN_COLLECTION.strip().replace("\n    ", " ").replace("(\n", "(").replace("\n)", ")"),
        "CREATE TABLE docs (id BIGINT, embedding VECTOR(3), PRIMARY KEY (id))",
    ],
)
def test_create_round_trips(sql: str) -> None:
    node = parse_one(sql)
    assert parse_one(node.sql(dialect="sqlvec")) == node


@pytest.mark.parametrize(
    ("sql", "kind", "names", "exists", "cascade"),
    [
        ("DROP COLLECTION docs", "COLLECTION", ["docs"], False, False),
        ("DROP COLLECTION IF EXISTS a, b", "COLLECTION", ["a", "b"], True, False),
        ("DROP TABLE docs", "TABLE", ["docs"], False, False),
        ("DROP TABLE IF EXISTS a, s.b CASCADE", "TABLE", ["a", "s.b"], True, True),
        ("DROP TABLE a RESTRICT", "TABLE", ["a"], False, False),
    ],
)
def test_drop(sql: str, kind: str, names: list[str], exists: bool, cascade: bool) -> None:
    node = parse_one(sql)
    assert isinstance(node, DropCollection)
    assert node.args["kind"] == kind
    assert all(isinstance(table, exp.Table) for table in node.expressions)
    assert [table.sql() for table in node.expressions] == names
    assert bool(node.args.get("exists")) is exists
    assert bool(node.args.get("cascade")) is cascade
    assert parse_one(node.sql(dialect="sqlvec")) == node


def test_drop_index_is_not_a_collection_drop() -> None:
    assert not isinstance(parse_one("DROP INDEX idx"), DropCollection)  # see test_parser_indexes


def test_drop_without_a_name() -> None:
    with pytest.raises(SyntaxError, match="end of input"):
        parse("DROP COLLECTION")


@pytest.mark.parametrize(
    ("sql", "kind"), [("SHOW COLLECTIONS", "COLLECTIONS"), ("show tables", "TABLES")]
)
def test_show_collections(sql: str, kind: str) -> None:
    node = parse_one(sql)
    assert isinstance(node, ShowCollections)
    assert node.args["kind"] == kind
    assert node.sql(dialect="sqlvec") == f"SHOW {kind}"
