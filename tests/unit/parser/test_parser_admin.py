"""Administration: FLUSH, COMPACT, ANALYZE, and sqlvec_collection_stats() in FROM."""

from __future__ import annotations

import pytest
from sqlglot import exp

from sqlvec.errors import SyntaxError
from sqlvec.parser import AnalyzeCollection, Compact, Flush, parse, parse_one


def assert_syntax_error(sql: str, message: str, position: int) -> None:
    with pytest.raises(SyntaxError) as info:
        parse(sql)
    assert (info.value.message, info.value.position) == (message, position)


@pytest.mark.parametrize(
    ("sql", "names", "expected"),
    [
        ("FLUSH", [], "FLUSH"),
        ("flush", [], "FLUSH"),
        ("FLUSH docs", ["docs"], "FLUSH docs"),
        ("FLUSH docs, public.other", ["docs", "public.other"], "FLUSH docs, public.other"),
        ('FLUSH "Docs"', ['"Docs"'], 'FLUSH "Docs"'),
    ],
)
def test_flush(sql: str, names: list[str], expected: str) -> None:
    node = parse_one(sql)
    assert isinstance(node, Flush)
    assert all(isinstance(table, exp.Table) for table in node.expressions)
    assert [table.sql() for table in node.expressions] == names
    assert node.sql(dialect="sqlvec") == expected
    assert parse_one(expected) == node


@pytest.mark.parametrize(("sql", "name"), [("COMPACT docs", "docs"), ("compact s.docs", "s.docs")])
def test_compact(sql: str, name: str) -> None:
    node = parse_one(sql)
    assert isinstance(node, Compact)
    assert isinstance(node.this, exp.Table)
    assert node.this.sql() == name
    assert node.sql(dialect="sqlvec") == f"COMPACT {name}"
    assert parse_one(node.sql(dialect="sqlvec")) == node


@pytest.mark.parametrize(
    ("sql", "name", "verbose", "expected"),
    [
        ("ANALYZE", None, False, "ANALYZE"),
        ("ANALYZE docs", "docs", False, "ANALYZE docs"),
        ("analyze public.docs", "public.docs", False, "ANALYZE public.docs"),
        ("ANALYZE VERBOSE docs", "docs", True, "ANALYZE VERBOSE docs"),
        ("ANALYZE VERBOSE", None, True, "ANALYZE VERBOSE"),
    ],
)
def test_analyze(sql: str, name: str | None, verbose: bool, expected: str) -> None:
    node = parse_one(sql)
    assert isinstance(node, AnalyzeCollection)
    assert node.this is None or isinstance(node.this, exp.Table)
    assert (node.this.sql() if node.this else None) == name
    assert bool(node.args.get("verbose")) is verbose
    assert node.sql(dialect="sqlvec") == expected
    assert parse_one(expected) == node


@pytest.mark.parametrize("sql", ["ANALYZE a, b", "ANALYZE docs (year)"])
def test_other_analyze_forms_are_left_to_sqlglot(sql: str) -> None:
    # Postgres forms the node cannot hold: sqlglot's exp.Analyze (planner: 0A000).
    assert isinstance(parse_one(sql), exp.Analyze)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT flush, compact, analyze FROM docs",
        "SELECT * FROM flush",
        "SELECT * FROM compact JOIN flush ON compact.id = flush.id",
        "INSERT INTO flush (compact) VALUES (1)",
        "UPDATE compact SET flush = 1",
        "CREATE TABLE flush (compact int)",
        "SELECT x AS flush FROM t",
    ],
)
def test_admin_words_are_names_elsewhere(sql: str) -> None:
    assert not isinstance(parse_one(sql), Flush | Compact)


@pytest.mark.parametrize(
    ("sql", "message", "position"),
    [
        ("FLUSH docs x", 'syntax error at or near "x"', 12),
        ("FLUSH docs,", "syntax error at end of input", 12),
        ("FLUSH 1", 'syntax error at or near "1"', 7),
        ("COMPACT", "syntax error at end of input", 8),
        ("COMPACT a, b", 'syntax error at or near ","', 10),
        ("COMPACT docs x", 'syntax error at or near "x"', 14),
        ("ANALYZE docs x", 'syntax error at or near "x"', 14),
        ("ANALYZE 1", 'syntax error at or near "1"', 9),
        ("SELECT 1; FLUSH docs docs", 'syntax error at or near "docs"', 22),
    ],
)
def test_admin_syntax_errors(sql: str, message: str, position: int) -> None:
    assert_syntax_error(sql, message, position)


def test_statements_in_one_query() -> None:
    statements = parse("FLUSH docs; COMPACT docs; ANALYZE docs; FLUSH")
    assert [type(s) for s in statements] == [Flush, Compact, AnalyzeCollection, Flush]


# --- sqlvec_collection_stats('docs') --------------------------------------------------------


def stats_call(node: exp.Expr) -> exp.Anonymous:
    """The shape the planner looks for: the FROM's exp.Table whose `this` is exp.Anonymous."""
    assert isinstance(node, exp.Select)
    table = node.args["from_"].this
    assert isinstance(table, exp.Table)
    call = table.this
    assert isinstance(call, exp.Anonymous)
    return call


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM sqlvec_collection_stats('docs')",
        "SELECT partition, row_count FROM sqlvec_collection_stats('docs') WHERE row_count > 0",
        "SELECT s.partition FROM sqlvec_collection_stats('docs') AS s ORDER BY s.partition",
        "select * from SQLVEC_COLLECTION_STATS('docs') s",
    ],
)
def test_collection_stats_table_function(sql: str) -> None:
    call = stats_call(parse_one(sql))
    assert call.name.lower() == "sqlvec_collection_stats"
    assert [arg.to_py() for arg in call.expressions] == ["docs"]


def test_collection_stats_with_a_parameter() -> None:
    call = stats_call(parse_one("SELECT * FROM sqlvec_collection_stats($1)"))
    assert isinstance(call.expressions[0], exp.Parameter)


def test_collection_stats_round_trips() -> None:
    sql = "SELECT partition, row_count FROM sqlvec_collection_stats('docs') AS s WHERE s.row_count > 0"
    node = parse_one(sql)
    # sqlglot prints function names upper-case, as for any function
    assert node.sql(dialect="sqlvec") == sql.replace(
        "sqlvec_collection_stats", "SQLVEC_COLLECTION_STATS"
    )
    assert parse_one(node.sql(dialect="sqlvec")) == node
