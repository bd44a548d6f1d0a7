"""parse / parse_one: statement splitting, parameters, and Postgres-shaped syntax errors."""

from __future__ import annotations

import logging
import threading

import pytest
import sqlglot
from sqlglot import exp

from sqlvec.errors import SqlvecError, StatementTooComplex, SyntaxError, error_fields
from sqlvec.parser import DIALECT, L2Distance, Sqlvec, parse, parse_one

KNN = "SELECT id, title, embedding <-> $1 AS distance FROM docs ORDER BY distance LIMIT 10"


@pytest.mark.parametrize(
    "sql",
    ["", "   ", "\n\t", ";", ";;", " ; ; ", "-- only a comment", "/* c */ ;", "-- a\n;\n-- b"],
)
def test_no_statements(sql: str) -> None:
    assert parse(sql) == []


def test_statements_in_order() -> None:
    statements = parse("SELECT 1; SHOW server_version;\nBEGIN;;COMMIT")
    assert [type(s).__name__ for s in statements] == ["Select", "Show", "Transaction", "Commit"]


@pytest.mark.parametrize(
    "sql", ["SELECT 1;", "SELECT 1 ;  ", "SELECT 1; -- trailing", "SELECT 1;\n/* c */"]
)
def test_trailing_semicolons_and_comments(sql: str) -> None:
    assert [s.sql() for s in parse(sql)] == ["SELECT 1"]


def test_parse_one() -> None:
    node = parse_one(KNN)
    assert isinstance(node, exp.Select)
    assert node.find(L2Distance) is not None


def test_parse_one_rejects_several_statements() -> None:
    with pytest.raises(
        SyntaxError, match="cannot insert multiple commands into a prepared statement"
    ):
        parse_one("SELECT 1; SELECT 2")


def test_parse_one_rejects_nothing() -> None:
    with pytest.raises(SyntaxError):
        parse_one("  ")


def test_parameters() -> None:
    select = parse_one("SELECT $1, $2::vector, $10::vector(3) FROM docs WHERE id = ANY($3)")
    params = list(select.find_all(exp.Parameter))
    assert sorted(int(p.name) for p in params) == [1, 2, 3, 10]
    cast = select.expressions[1]
    assert isinstance(cast, exp.Cast)
    assert isinstance(cast.this, exp.Parameter)
    assert cast.to.is_type(exp.DType.VECTOR)
    assert select.expressions[2].to.expressions[0].this.to_py() == 3


def test_dialect_is_registered() -> None:
    assert isinstance(DIALECT, Sqlvec)
    tree = sqlglot.parse_one("SELECT a <=> b", read="sqlvec")
    assert tree.sql(dialect="sqlvec") == "SELECT a <=> b"


@pytest.mark.parametrize(
    ("sql", "message", "position"),
    [
        ("SELECT * FORM docs", 'syntax error at or near "FORM"', 10),
        ("SELECT 1 FORM docs", 'syntax error at or near "docs"', 15),
        ("SELEC 1", 'syntax error at or near "SELEC"', 1),
        ("FLUSHES docs", 'syntax error at or near "FLUSHES"', 1),  # a bare expression
        ("SELECT (1", "syntax error at end of input", 10),
        ("SELECT 1 +", "syntax error at end of input", 11),
        ("SELECT (1; SELECT 2", 'syntax error at or near ";"', 10),
        ("SELECT 1; SELEC 2", 'syntax error at or near "SELEC"', 11),
        ("SELECT 1,, 2", 'syntax error at or near ","', 10),
        ("SELECT , 1", 'syntax error at or near ","', 8),
        ("SELECT 1,", "syntax error at end of input", 10),
        ("INSERT INTO t VALUES (1,,2)", 'syntax error at or near ","', 25),
        ("SELECT * AS x FROM t", 'syntax error at or near "AS"', 10),
        ("SELECT\n  *\n  FORM docs", 'syntax error at or near "FORM"', 14),
        ("SELECT 'é', * FORM docs", 'syntax error at or near "FORM"', 15),  # characters, not bytes
        ("SELECT 'x' FROM", "syntax error at end of input", 16),
    ],
)
def test_syntax_error_positions(sql: str, message: str, position: int) -> None:
    with pytest.raises(SyntaxError) as info:
        parse(sql)
    assert (info.value.message, info.value.position) == (message, position)
    assert info.value.sqlstate == "42601"


@pytest.mark.parametrize(
    ("sql", "message", "position"),
    [
        ("SELECT 'abc", 'unterminated quoted string at or near "\'abc"', 8),
        ('SELECT "abc', 'unterminated quoted identifier at or near ""abc"', 8),
        ("SELECT 1 /* abc", 'unterminated /* comment at or near "/* abc"', 10),
        ("SELECT $$abc", 'unterminated dollar-quoted string at or near "$$abc"', 8),
    ],
)
def test_tokenizer_errors(sql: str, message: str, position: int) -> None:
    with pytest.raises(SyntaxError) as info:
        parse(sql)
    assert (info.value.message, info.value.position) == (message, position)


def test_error_fields_carry_the_position() -> None:
    with pytest.raises(SyntaxError) as info:
        parse("SELECT * FORM docs")
    fields = error_fields(info.value)
    assert (fields["C"], fields["P"]) == ("42601", "10")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT (",
        "SELECT 1 FROM",
        ")",
        "SELECT CAST(",
        "CREATE",
        "DROP",
        "SET",
        "'",
        "SELECT 1::",
        "$1",
    ],
)
def test_only_sqlvec_errors_escape(sql: str) -> None:
    with pytest.raises(SqlvecError) as info:
        parse(sql)
    assert not isinstance(info.value, sqlglot.errors.SqlglotError)


def test_deep_nesting_is_a_program_limit() -> None:
    with pytest.raises(StatementTooComplex, match="stack depth limit exceeded"):
        parse("SELECT " + "(" * 5000 + "1" + ")" * 5000)
    assert parse("SELECT ((((((((((1))))))))))")  # the parser is still usable


@pytest.mark.parametrize(
    "sql",
    [
        "EXPLAIN SELECT 1",
        "DECLARE c CURSOR FOR SELECT 1",
        "SHOW INDEXES FROM docs",
        "SET CONSTRAINTS ALL DEFERRED",
        "DISCARD ALL",
        "CREATE TABLE t (a int) WITH (x = 1) TABLESPACE s",
    ],
)
def test_command_fallbacks_are_quiet(sql: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        parse(sql)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_threads_parse_independently() -> None:
    queries = [KNN, "SHOW hnsw.ef_search", "SET nprobe = 16", "SELECT * FORM docs"]
    failures: list[str] = []

    def work() -> None:
        for _ in range(200):
            for sql in queries:
                try:
                    tree = parse_one(sql)
                except SyntaxError as exc:
                    if exc.position != 10:
                        failures.append(f"{sql}: {exc.position}")
                else:
                    if tree.sql(dialect="sqlvec") == "":
                        failures.append(sql)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_parameters_without_spaces_are_not_dollar_quotes() -> None:
    # psycopg turns `(%s,%s)` into `($1,$2)`; sqlglot read `$1,$` as a dollar-quote tag.
    statement = parse_one("INSERT INTO t VALUES ($1,$2,$3)")
    assert statement.sql("sqlvec") == "INSERT INTO t VALUES ($1, $2, $3)"
    assert parse_one("SELECT $$a,$1$$").sql("sqlvec") == "SELECT 'a,$1'"
