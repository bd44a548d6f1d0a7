"""COPY: every Postgres spelling (modern options, pre-9.0 options, asyncpg's and psycopg's)
parses into one exp.Copy shape."""

from __future__ import annotations

import pytest
from sqlglot import exp

from sqlvec.errors import SyntaxError
from sqlvec.parser import parse, parse_one


def options(node: exp.Expr) -> list[tuple[str, str | None]]:
    result = []
    for param in node.args.get("params") or []:
        value = param.args.get("expression")
        result.append((param.name, None if value is None else value.sql()))
    return result


@pytest.mark.parametrize(
    ("sql", "table", "columns", "from_client", "expected_options", "printed"),
    [
        ("COPY docs FROM STDIN", "docs", [], True, [], "COPY docs FROM STDIN"),
        (
            "COPY docs (id, embedding) FROM STDIN WITH (FORMAT BINARY)",
            "docs",
            ["id", "embedding"],
            True,
            [("FORMAT", "binary")],
            "COPY docs (id, embedding) FROM STDIN WITH (FORMAT binary)",
        ),
        (
            'COPY "docs"("id","title") FROM STDIN (FORMAT binary)',  # asyncpg
            "docs",
            ["id", "title"],
            True,
            [("FORMAT", "binary")],
            'COPY "docs" ("id", "title") FROM STDIN WITH (FORMAT binary)',
        ),
        (
            "COPY docs TO STDOUT WITH CSV HEADER",
            "docs",
            [],
            False,
            [("FORMAT", "csv"), ("HEADER", None)],
            "COPY docs TO STDOUT WITH (FORMAT csv, HEADER)",
        ),
        (
            "copy binary docs from stdin",
            "docs",
            [],
            True,
            [("FORMAT", "binary")],
            "COPY docs FROM STDIN WITH (FORMAT binary)",
        ),
        (
            "COPY docs TO STDOUT WITH DELIMITER AS '|' NULL AS '' CSV QUOTE AS '\"' FORCE QUOTE *",
            "docs",
            [],
            False,
            [
                ("DELIMITER", "'|'"),
                ("NULL", "''"),
                ("FORMAT", "csv"),
                ("QUOTE", "'\"'"),
                ("FORCE_QUOTE", "*"),
            ],
            "COPY docs TO STDOUT WITH (DELIMITER '|', NULL '', FORMAT csv, QUOTE '\"', FORCE_QUOTE *)",
        ),
        (
            "COPY docs FROM STDIN CSV FORCE NOT NULL a, b FORCE NULL c",
            "docs",
            [],
            True,
            [("FORMAT", "csv"), ("FORCE_NOT_NULL", "(a, b)"), ("FORCE_NULL", "(c)")],
            "COPY docs FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (a, b), FORCE_NULL (c))",
        ),
        (
            "COPY docs FROM STDIN USING DELIMITERS '|'",
            "docs",
            [],
            True,
            [("DELIMITER", "'|'")],
            "COPY docs FROM STDIN WITH (DELIMITER '|')",
        ),
        (
            "COPY docs FROM STDIN (FORMAT 'csv', HEADER True, DELIMITER ';', FORCE_NULL (\"A\"))",
            "docs",
            [],
            True,
            [
                ("FORMAT", "'csv'"),
                ("HEADER", "true"),
                ("DELIMITER", "';'"),
                ("FORCE_NULL", '("A")'),
            ],
            "COPY docs FROM STDIN WITH (FORMAT 'csv', HEADER true, DELIMITER ';', FORCE_NULL (\"A\"))",
        ),
        (
            "COPY s.docs FROM STDOUT (HEADER match, FREEZE, NULL E'\\\\N')",  # STDOUT: the client
            "s.docs",
            [],
            True,
            [("HEADER", "match"), ("FREEZE", None), ("NULL", "'\\N'")],
            "COPY s.docs FROM STDIN WITH (HEADER match, FREEZE, NULL '\\N')",
        ),
    ],
)
def test_copy_table_forms(
    sql: str,
    table: str,
    columns: list[str],
    from_client: bool,
    expected_options: list[tuple[str, str | None]],
    printed: str,
) -> None:
    node = parse_one(sql)
    assert isinstance(node, exp.Copy)
    target = node.this
    names = [c.name for c in target.expressions] if isinstance(target, exp.Schema) else []
    name = target.this if isinstance(target, exp.Schema) else target
    assert isinstance(name, exp.Table)
    assert (name.sql().replace('"', ""), names, node.args["kind"]) == (table, columns, from_client)
    files = node.args["files"]
    assert files == [exp.var("STDIN" if from_client else "STDOUT")]
    assert options(node) == expected_options
    assert node.sql(dialect="sqlvec") == printed
    assert parse_one(printed) == node


def test_copy_query_to_stdout() -> None:
    node = parse_one(
        "COPY (SELECT id, embedding <-> '[1,2]' AS d FROM docs LIMIT 3) TO STDOUT (FORMAT csv)"
    )
    assert isinstance(node, exp.Copy) and isinstance(node.this, exp.Subquery)
    assert isinstance(node.this.this, exp.Select)
    assert node.args["kind"] is False
    assert options(node) == [("FORMAT", "csv")]


def test_files_programs_and_where() -> None:
    node = parse_one("COPY docs FROM '/tmp/data.csv' WITH CSV")
    assert node.args["files"] == [exp.Literal.string("/tmp/data.csv")]
    node = parse_one("COPY docs TO PROGRAM 'gzip > /tmp/x'")
    assert node.args.get("program") is True
    node = parse_one("COPY docs FROM STDIN WHERE id > 3")
    assert isinstance(node.args.get("where"), exp.Where)


@pytest.mark.parametrize(
    ("sql", "message", "position"),
    [
        ("COPY", "syntax error at end of input", 5),
        ("COPY docs", "syntax error at end of input", 10),
        ("COPY docs FROM", "syntax error at end of input", 15),
        ("COPY docs INTO STDIN", 'syntax error at or near "INTO"', 11),
        ("COPY (SELECT 1) FROM STDIN", 'syntax error at or near "FROM"', 17),
        ("COPY docs FROM STDIN WITH", "syntax error at end of input", 26),
        ("COPY docs FROM STDIN (FORMAT", "syntax error at end of input", 29),
        ("COPY docs FROM STDIN (FORMAT csv HEADER)", 'syntax error at or near "HEADER"', 34),
        ("COPY docs FROM STDIN junk", 'syntax error at or near "junk"', 22),
        ("COPY docs TO STDOUT WHERE id > 1", 'syntax error at or near "WHERE"', 21),
        ("COPY docs FROM STDIN DELIMITER 5", 'syntax error at or near "5"', 32),
    ],
)
def test_copy_syntax_errors(sql: str, message: str, position: int) -> None:
    with pytest.raises(SyntaxError) as info:
        parse(sql)
    assert (info.value.message, info.value.position) == (message, position)
