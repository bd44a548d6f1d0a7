"""Partitions: CREATE / DROP PARTITION, SHOW PARTITIONS, PARTITION (...) in FROM and INSERT."""

from __future__ import annotations

import pytest
from sqlglot import exp

from sqlvec.errors import SyntaxError
from sqlvec.parser import CreatePartition, DropPartition, Show, ShowPartitions, parse, parse_one


def assert_syntax_error(sql: str, message: str, position: int) -> None:
    with pytest.raises(SyntaxError) as info:
        parse(sql)
    assert (info.value.message, info.value.position) == (message, position)


def partitions(node: exp.Expr) -> dict[str, list[str] | None]:
    """Every table in the tree -> its `partitions` arg."""
    return {table.name: table.args.get("partitions") for table in node.find_all(exp.Table)}


def insert(sql: str) -> exp.Insert:
    node = parse_one(sql)
    assert isinstance(node, exp.Insert)
    return node


# --- CREATE / DROP / SHOW -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "tag", "collection", "exists"),
    [
        ("CREATE PARTITION tag01 ON docs", "tag01", "docs", False),
        ("CREATE PARTITION IF NOT EXISTS tag01 ON docs", "tag01", "docs", True),
        ("create partition Tag01 on docs", "tag01", "docs", False),  # folded like identifiers
        ('CREATE PARTITION "Tag01" ON docs', "Tag01", "docs", False),  # quoted: kept
        ("CREATE PARTITION '2024-01' ON public.docs", "2024-01", "public.docs", False),  # string
        ('CREATE PARTITION "on" ON docs', "on", "docs", False),
    ],
)
def test_create_partition(sql: str, tag: str, collection: str, exists: bool) -> None:
    node = parse_one(sql)
    assert isinstance(node, CreatePartition)
    assert node.this == tag
    assert isinstance(node.args["collection"], exp.Table)
    assert node.args["collection"].sql() == collection
    assert bool(node.args.get("exists")) is exists
    assert parse_one(node.sql(dialect="sqlvec")).this == tag


@pytest.mark.parametrize(
    ("sql", "tag", "exists"),
    [
        ("DROP PARTITION tag01 ON docs", "tag01", False),
        ("DROP PARTITION IF EXISTS TAG01 ON docs", "tag01", True),
        ("DROP PARTITION 'Tag 01' ON docs", "Tag 01", False),
    ],
)
def test_drop_partition(sql: str, tag: str, exists: bool) -> None:
    node = parse_one(sql)
    assert isinstance(node, DropPartition)
    assert not isinstance(node, exp.DropPartition)  # not sqlglot's ALTER TABLE ... DROP PARTITION
    assert node.this == tag
    assert node.args["collection"].name == "docs"
    assert bool(node.args.get("exists")) is exists
    again = parse_one(node.sql(dialect="sqlvec"))
    assert again == node
    assert again.this == tag


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("CREATE PARTITION tag01 ON docs", "CREATE PARTITION tag01 ON docs"),
        (
            "CREATE PARTITION IF NOT EXISTS 'a b' ON docs",
            'CREATE PARTITION IF NOT EXISTS "a b" ON docs',
        ),
        ('DROP PARTITION IF EXISTS "T" ON s.docs', 'DROP PARTITION IF EXISTS "T" ON s.docs'),
        ('DROP PARTITION "on" ON docs', 'DROP PARTITION "on" ON docs'),  # keywords are quoted
    ],
)
def test_partition_ddl_sql(sql: str, expected: str) -> None:
    assert parse_one(sql).sql(dialect="sqlvec") == expected


@pytest.mark.parametrize("sql", ["SHOW PARTITIONS FROM docs", "show partitions in docs"])
def test_show_partitions(sql: str) -> None:
    node = parse_one(sql)
    assert isinstance(node, ShowPartitions)
    assert isinstance(node.args["collection"], exp.Table)
    assert node.args["collection"].name == "docs"
    assert node.sql(dialect="sqlvec") == "SHOW PARTITIONS FROM docs"


def test_show_partitions_without_from_is_a_setting_name() -> None:
    node = parse_one("SHOW partitions")
    assert isinstance(node, Show)
    assert node.name == "partitions"


@pytest.mark.parametrize(
    ("sql", "message", "position"),
    [
        ("CREATE PARTITION", "syntax error at end of input", 17),
        ("CREATE PARTITION tag01", "syntax error at end of input", 23),
        ("CREATE PARTITION tag01 docs", 'syntax error at or near "docs"', 24),
        ("CREATE PARTITION ON docs", 'syntax error at or near "ON"', 18),
        ("CREATE PARTITION 1 ON docs", 'syntax error at or near "1"', 18),
        ("CREATE PARTITION t ON", "syntax error at end of input", 22),
        ("CREATE PARTITION t ON docs x", 'syntax error at or near "x"', 28),
        ("CREATE PARTITION IF EXISTS t ON docs", 'syntax error at or near "EXISTS"', 21),
        ("DROP PARTITION", "syntax error at end of input", 15),
        ("DROP PARTITION t", "syntax error at end of input", 17),
        ("DROP PARTITION IF EXISTS ON docs", 'syntax error at or near "ON"', 26),
        ("SHOW PARTITIONS FROM", "syntax error at end of input", 21),
        ("SHOW PARTITIONS FROM docs x", 'syntax error at or near "x"', 27),
    ],
)
def test_partition_ddl_syntax_errors(sql: str, message: str, position: int) -> None:
    assert_syntax_error(sql, message, position)


# --- SELECT ... FROM coll PARTITION (...) ---------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM docs PARTITION (tag01)", {"docs": ["tag01"]}),
        ("SELECT * FROM docs PARTITION (t1, t2)", {"docs": ["t1", "t2"]}),
        ("SELECT * FROM docs PARTITION (T1, \"T2\", 'T 3')", {"docs": ["t1", "T2", "T 3"]}),
        ("SELECT * FROM docs", {"docs": None}),
        (
            "SELECT id, title, embedding <-> $1 AS distance FROM docs PARTITION (tag01) "
            "WHERE year > 2000 ORDER BY distance LIMIT 10",
            {"docs": ["tag01"]},
        ),
        ("SELECT d.id FROM docs PARTITION (a) AS d WHERE d.id = 1", {"docs": ["a"]}),
        ("SELECT d.id FROM docs PARTITION (a) d ORDER BY d.id", {"docs": ["a"]}),
        (
            "SELECT * FROM docs PARTITION (a) d JOIN meta m ON m.id = d.id",
            {"docs": ["a"], "meta": None},
        ),
        (
            "SELECT * FROM docs d JOIN other PARTITION (b, c) o USING (id)",
            {"docs": None, "other": ["b", "c"]},
        ),
        ("SELECT * FROM a PARTITION (x), b PARTITION (y)", {"a": ["x"], "b": ["y"]}),
        ("SELECT * FROM (SELECT * FROM docs PARTITION (p)) s", {"docs": ["p"]}),
        (
            "SELECT q.qid, r.id FROM queries q CROSS JOIN LATERAL (SELECT id, embedding <-> "
            "q.embedding AS distance FROM docs PARTITION (p1) ORDER BY distance LIMIT 10) r",
            {"queries": None, "docs": ["p1"]},
        ),
        (
            "WITH x AS (SELECT * FROM s.docs PARTITION (p)) SELECT * FROM x",
            {"docs": ["p"], "x": None},
        ),
        ("DELETE FROM docs PARTITION (p) WHERE id = 1", {"docs": ["p"]}),
    ],
)
def test_select_partitions(sql: str, expected: dict[str, list[str] | None]) -> None:
    node = parse_one(sql)
    assert partitions(node) == expected
    assert all(not table.args.get("partition") for table in node.find_all(exp.Table))


def test_partitions_sit_before_the_alias_and_clauses() -> None:
    node = parse_one("SELECT * FROM docs PARTITION (a) AS d WHERE d.year > 1 ORDER BY d.id LIMIT 5")
    assert isinstance(node, exp.Select)
    table = node.args["from_"].this
    assert table.alias == "d"
    assert table.args["partitions"] == ["a"]
    assert node.args["where"] is not None
    assert node.args["order"] is not None
    assert node.args["limit"].expression.to_py() == 5


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM docs PARTITION (t1, t2)", "SELECT * FROM docs PARTITION (t1, t2)"),
        (
            "select * from docs partition (T1, 'x y', \"on\") as d where d.a = 1",
            'SELECT * FROM docs PARTITION (t1, "x y", "on") AS d WHERE d.a = 1',
        ),
        (
            "SELECT * FROM a PARTITION (p) JOIN b PARTITION (q) ON a.id = b.id",
            "SELECT * FROM a PARTITION (p) JOIN b PARTITION (q) ON a.id = b.id",
        ),
    ],
)
def test_select_partitions_sql(sql: str, expected: str) -> None:
    node = parse_one(sql)
    assert node.sql(dialect="sqlvec") == expected
    again = parse_one(expected)
    assert again == node
    assert partitions(again) == partitions(node)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT partition, row_count FROM stats",
        "SELECT * FROM docs AS partition WHERE partition.id = 1",
        "SELECT row_number() OVER (PARTITION BY year ORDER BY id) FROM docs",
    ],
)
def test_partition_is_still_a_name_elsewhere(sql: str) -> None:
    assert all(not tags for tags in partitions(parse_one(sql)).values())


@pytest.mark.parametrize(
    ("sql", "message", "position"),
    [
        ("SELECT * FROM docs PARTITION ()", 'syntax error at or near ")"', 31),
        ("SELECT * FROM docs PARTITION (a,)", 'syntax error at or near ")"', 33),
        ("SELECT * FROM docs PARTITION (a b)", 'syntax error at or near "b"', 33),
        ("SELECT * FROM docs PARTITION (1)", 'syntax error at or near "1"', 31),
        ("SELECT * FROM docs PARTITION (a + b)", 'syntax error at or near "+"', 33),
        ("SELECT * FROM docs PARTITION (a", "syntax error at end of input", 32),
        ("SELECT * FROM docs PARTITION a", 'syntax error at or near "PARTITION"', 20),
        (
            "SELECT * FROM docs PARTITION (a) PARTITION (b)",
            'syntax error at or near "PARTITION"',
            34,
        ),
        # a bare `partition` is no longer a table alias (AS partition still is)
        ("SELECT * FROM docs partition WHERE true", 'syntax error at or near "partition"', 20),
    ],
)
def test_select_partition_syntax_errors(sql: str, message: str, position: int) -> None:
    assert_syntax_error(sql, message, position)


# --- INSERT INTO coll PARTITION (tag) -------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "tag", "columns"),
    [
        (
            "INSERT INTO docs PARTITION (tag01) (title, embedding) VALUES ('a', '[1,2]')",
            "tag01",
            ["title", "embedding"],
        ),
        (
            "INSERT INTO docs (title, embedding) PARTITION (Tag01) VALUES ('a', $1)",
            "tag01",
            ["title", "embedding"],
        ),
        ("INSERT INTO docs PARTITION ('Tag 01') VALUES (1, '[1,2]')", "Tag 01", None),
        ('INSERT INTO docs PARTITION ("Tag01") SELECT * FROM other', "Tag01", None),
        ("INSERT INTO docs (id) VALUES (1)", None, ["id"]),
    ],
)
def test_insert_partition(sql: str, tag: str | None, columns: list[str] | None) -> None:
    node = insert(sql)
    assert node.args.get("partition_tag") == tag
    assert not node.args.get("partition")  # sqlglot's own arg (ClickHouse PARTITION BY) unused
    target = node.this
    if columns is None:
        assert isinstance(target, exp.Table)
    else:
        assert isinstance(target, exp.Schema)
        assert [column.name for column in target.expressions] == columns
        target = target.this
    assert target.name == "docs"
    assert not target.args.get("partitions")  # the tag lives on the Insert only


def test_insert_partition_with_alias_returning_and_upsert() -> None:
    node = insert(
        "INSERT INTO docs AS d PARTITION (p) (id, title) VALUES (1, 'a') "
        "ON CONFLICT (id) DO UPDATE SET title = excluded.title RETURNING id"
    )
    assert node.args["partition_tag"] == "p"
    assert node.this.this.alias == "d"
    assert node.args["conflict"] is not None
    assert node.args["returning"] is not None


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "INSERT INTO docs PARTITION (tag01) (title, embedding) VALUES ('a', $1)",
            "INSERT INTO docs PARTITION (tag01) (title, embedding) VALUES ('a', $1)",
        ),
        (
            "insert into docs (id) partition ('T 1') values (1) returning id",
            'INSERT INTO docs PARTITION ("T 1") (id) VALUES (1) RETURNING id',
        ),
        ("INSERT INTO docs PARTITION (p) SELECT 1", "INSERT INTO docs PARTITION (p) SELECT 1"),
    ],
)
def test_insert_partition_sql(sql: str, expected: str) -> None:
    node = insert(sql)
    assert node.sql(dialect="sqlvec") == expected
    again = insert(expected)
    assert again == node
    assert again.args["partition_tag"] == node.args["partition_tag"]


@pytest.mark.parametrize(
    ("sql", "message", "position"),
    [
        ("INSERT INTO docs PARTITION (a, b) VALUES (1)", 'syntax error at or near ","', 30),
        ("INSERT INTO docs PARTITION () VALUES (1)", 'syntax error at or near ")"', 29),
        ("INSERT INTO docs PARTITION (1) VALUES (1)", 'syntax error at or near "1"', 29),
        ("INSERT INTO docs PARTITION a VALUES (1)", 'syntax error at or near "PARTITION"', 18),
        (
            "INSERT INTO docs PARTITION (a) (x) PARTITION (b) VALUES (1)",
            'syntax error at or near "PARTITION"',
            36,
        ),
    ],
)
def test_insert_partition_syntax_errors(sql: str, message: str, position: int) -> None:
    assert_syntax_error(sql, message, position)
