"""Session statements: SHOW, SET, RESET, transactions and savepoints."""

from __future__ import annotations

import pytest
from sqlglot import exp

from sqlvec.errors import SyntaxError
from sqlvec.parser import (
    DefaultValue,
    ResetVariable,
    Savepoint,
    SetVariable,
    Show,
    parse,
    parse_one,
)


def values(node: SetVariable) -> list[object]:
    """SET values as Python values; DEFAULT as the string 'DEFAULT', modes as their text."""
    out: list[object] = []
    for value in node.expressions:
        if isinstance(value, DefaultValue):
            out.append("DEFAULT")
        elif isinstance(value, exp.Var):
            out.append(value.name)
        else:
            out.append(value.to_py())
    return out


def assert_syntax_error(sql: str, message: str, position: int) -> None:
    with pytest.raises(SyntaxError) as info:
        parse(sql)
    assert (info.value.message, info.value.position) == (message, position)


# --- SHOW -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "name"),
    [
        ("SHOW server_version", "server_version"),
        ("show Server_Version", "server_version"),
        ("SHOW hnsw.ef_search", "hnsw.ef_search"),
        ("SHOW ivfflat.probes", "ivfflat.probes"),
        ("SHOW transaction isolation level", "transaction_isolation"),
        ("SHOW transaction_isolation", "transaction_isolation"),
        ("show time zone", "timezone"),
        ("SHOW TimeZone", "timezone"),
        ("SHOW session authorization", "session_authorization"),
        ("SHOW ALL", "all"),
        ("SHOW standard_conforming_strings", "standard_conforming_strings"),
        ('SHOW "search_path"', "search_path"),
    ],
)
def test_show(sql: str, name: str) -> None:
    node = parse_one(sql)
    assert isinstance(node, Show)
    assert node.name == name
    assert parse_one(node.sql(dialect="sqlvec")) == node


def test_show_of_something_else_is_a_command() -> None:
    # Not a setting and not SHOW COLLECTIONS / PARTITIONS: the planner answers 0A000
    assert isinstance(parse_one("SHOW INDEXES FROM docs"), exp.Command)


def test_show_without_a_name() -> None:
    assert_syntax_error("SHOW", "syntax error at end of input", 5)


# --- SET ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "name", "expected", "local"),
    [
        ("SET nprobe = 16", "nprobe", [16], False),
        ("SET ef_search TO 64", "ef_search", [64], False),
        ("SET LOCAL hnsw.ef_search = 100", "hnsw.ef_search", [100], True),
        ("SET SESSION ivfflat.probes = 10", "ivfflat.probes", [10], False),
        (
            "SET application_name = 'PostgreSQL JDBC Driver'",
            "application_name",
            ["PostgreSQL JDBC Driver"],
            False,
        ),
        ("SET extra_float_digits = 3", "extra_float_digits", [3], False),
        ("SET extra_float_digits = -3", "extra_float_digits", [-3], False),
        ("SET x = 0.5", "x", [0.5], False),
        ("SET enable_seqscan = off", "enable_seqscan", ["off"], False),
        ("SET enable_seqscan = ON", "enable_seqscan", ["on"], False),
        ("SET jit = true", "jit", ["true"], False),
        ("set local client_encoding to utf8", "client_encoding", ["utf8"], True),
        ("SET DATESTYLE TO 'ISO'", "datestyle", ["ISO"], False),
        ("SET DateStyle = ISO, MDY", "datestyle", ["iso", "mdy"], False),
        ('SET search_path TO public, "$user"', "search_path", ["public", "$user"], False),
        ("SET search_path = DEFAULT", "search_path", ["DEFAULT"], False),
        ("SET x TO $$dollar$$", "x", ["dollar"], False),
        ("SET TIME ZONE 'UTC'", "timezone", ["UTC"], False),
        ('set time zone "Asia/Shanghai"', "timezone", ["Asia/Shanghai"], False),
        ("SET TIME ZONE LOCAL", "timezone", ["DEFAULT"], False),
        ("SET TIME ZONE DEFAULT", "timezone", ["DEFAULT"], False),
        ("SET LOCAL TIME ZONE -8", "timezone", [-8], True),
        ("SET NAMES 'UTF8'", "client_encoding", ["UTF8"], False),
        ("SET SCHEMA 'public'", "search_path", ["public"], False),
        ("SET ROLE admin", "role", ["admin"], False),
        ("SET role TO admin", "role", ["admin"], False),
        ("SET SESSION AUTHORIZATION DEFAULT", "session_authorization", ["DEFAULT"], False),
    ],
)
def test_set(sql: str, name: str, expected: list[object], local: bool) -> None:
    node = parse_one(sql)
    assert isinstance(node, SetVariable)
    assert node.name == name
    assert values(node) == expected
    assert bool(node.args.get("local")) is local
    assert not node.args.get("kind")
    assert parse_one(node.sql(dialect="sqlvec")) == node


@pytest.mark.parametrize(
    ("sql", "node_type", "name", "expected", "local"),
    [
        ("SHOW nprobe", Show, "nprobe", None, False),
        ("SET nprobe = 16", SetVariable, "nprobe", [16], False),
        ("SET ef_search = 64", SetVariable, "ef_search", [64], False),
        ("SET search_length = 30", SetVariable, "search_length", [30], False),
        ("SET hnsw.ef_search = 40", SetVariable, "hnsw.ef_search", [40], False),
        ("SET LOCAL ivfflat.probes = 3", SetVariable, "ivfflat.probes", [3], True),
        ("SET NProbe TO DEFAULT", SetVariable, "nprobe", ["DEFAULT"], False),
        ("RESET nprobe", ResetVariable, "nprobe", None, False),
        ("RESET ivfflat.probes", ResetVariable, "ivfflat.probes", None, False),
    ],
)
def test_search_settings(
    sql: str, node_type: type, name: str, expected: list[object] | None, local: bool
) -> None:
    # The DESIGN's search knobs (Milvus and pgvector names) are ordinary settings.
    node = parse_one(sql)
    assert type(node) is node_type
    assert node.name == name
    if isinstance(node, SetVariable):
        assert values(node) == expected
        assert bool(node.args.get("local")) is local
    assert parse_one(node.sql(dialect="sqlvec")) == node


def test_set_values_are_literals_or_default() -> None:
    node = parse_one('SET search_path TO public, "$user", 3')
    assert [type(value) for value in node.expressions] == [exp.Literal] * 3
    assert isinstance(parse_one("SET x TO DEFAULT").expressions[0], DefaultValue)


@pytest.mark.parametrize(
    ("sql", "kind", "modes", "local"),
    [
        (
            "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED",
            "characteristics",
            ["ISOLATION LEVEL READ COMMITTED"],
            False,
        ),
        (
            "SET TRANSACTION READ ONLY, DEFERRABLE",
            "transaction",
            ["READ ONLY", "DEFERRABLE"],
            False,
        ),
        (
            "SET LOCAL TRANSACTION ISOLATION LEVEL SERIALIZABLE",
            "transaction",
            ["ISOLATION LEVEL SERIALIZABLE"],
            True,
        ),
    ],
)
def test_set_transaction(sql: str, kind: str, modes: list[str], local: bool) -> None:
    node = parse_one(sql)
    assert isinstance(node, SetVariable)
    assert node.args["kind"] == kind
    assert values(node) == modes
    assert bool(node.args.get("local")) is local
    assert parse_one(node.sql(dialect="sqlvec")) == node


def test_unmodelled_set_forms_are_commands() -> None:
    assert isinstance(parse_one("SET CONSTRAINTS ALL DEFERRED"), exp.Command)


@pytest.mark.parametrize(
    ("sql", "message", "position"),
    [
        ("SET x", "syntax error at end of input", 6),
        ("SET x = ", "syntax error at end of input", 9),
        ("SET x = 1 + 2", 'syntax error at or near "+"', 11),
        ("SET x = a,", "syntax error at end of input", 11),
        ("SET = 1", 'syntax error at or near "="', 5),
        ("SET TRANSACTION", "syntax error at end of input", 16),
    ],
)
def test_set_syntax_errors(sql: str, message: str, position: int) -> None:
    assert_syntax_error(sql, message, position)


# --- RESET ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "name"),
    [
        ("RESET ALL", "all"),
        ("reset all", "all"),
        ("RESET search_path", "search_path"),
        ("RESET hnsw.ef_search", "hnsw.ef_search"),
        ("RESET TIME ZONE", "timezone"),
        ("RESET TRANSACTION ISOLATION LEVEL", "transaction_isolation"),
        ("RESET ROLE", "role"),
    ],
)
def test_reset(sql: str, name: str) -> None:
    node = parse_one(sql)
    assert isinstance(node, ResetVariable)
    assert node.name == name
    assert parse_one(node.sql(dialect="sqlvec")) == node


def test_reset_without_a_name() -> None:
    assert_syntax_error("RESET", "syntax error at end of input", 6)


# --- transactions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "modes"),
    [
        ("BEGIN", []),
        ("begin transaction", []),
        ("BEGIN WORK", []),
        (
            "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE",
            ["ISOLATION LEVEL SERIALIZABLE", "READ ONLY", "DEFERRABLE"],
        ),
        (
            "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ WRITE, NOT DEFERRABLE",
            ["ISOLATION LEVEL REPEATABLE READ", "READ WRITE", "NOT DEFERRABLE"],
        ),
        ("begin isolation level read uncommitted", ["ISOLATION LEVEL READ UNCOMMITTED"]),
    ],
)
def test_begin(sql: str, modes: list[str]) -> None:
    node = parse_one(sql)
    assert isinstance(node, exp.Transaction)
    assert node.args.get("this") is None
    assert (node.args.get("modes") or []) == modes
    assert parse_one(node.sql(dialect="sqlvec")) == node


@pytest.mark.parametrize(
    ("sql", "modes"),
    [("START TRANSACTION", []), ("start transaction read only", ["READ ONLY"])],
)
def test_start_transaction(sql: str, modes: list[str]) -> None:
    node = parse_one(sql)
    assert isinstance(node, exp.Transaction)
    assert node.args["this"] == "START"  # command tag START TRANSACTION, not BEGIN
    assert (node.args.get("modes") or []) == modes
    assert node.sql(dialect="sqlvec").startswith("START TRANSACTION")


@pytest.mark.parametrize(
    ("sql", "chain"),
    [
        ("COMMIT", None),
        ("COMMIT WORK", None),
        ("commit transaction", None),
        ("END", None),
        ("END TRANSACTION", None),
        ("COMMIT AND CHAIN", True),
        ("COMMIT AND NO CHAIN", False),
    ],
)
def test_commit(sql: str, chain: bool | None) -> None:
    node = parse_one(sql)
    assert isinstance(node, exp.Commit)
    assert node.args.get("chain") is chain


@pytest.mark.parametrize(
    "sql",
    [
        "ROLLBACK",
        "ROLLBACK WORK",
        "rollback transaction",
        "ABORT",
        "ABORT WORK",
        "ROLLBACK AND NO CHAIN",
    ],
)
def test_rollback(sql: str) -> None:
    node = parse_one(sql)
    assert isinstance(node, exp.Rollback)
    assert not node.args.get("savepoint")


@pytest.mark.parametrize(
    ("sql", "name", "action"),
    [
        ('SAVEPOINT "_pg3_1"', "_pg3_1", "savepoint"),
        ("SAVEPOINT Sp", "sp", "savepoint"),  # folded like any Postgres identifier
        ('SAVEPOINT "Sp"', "Sp", "savepoint"),
        ('RELEASE "_pg3_1"', "_pg3_1", "release"),
        ("RELEASE SAVEPOINT a", "a", "release"),
        ("ROLLBACK TO SAVEPOINT x", "x", "rollback_to"),
        ("ROLLBACK TO x", "x", "rollback_to"),
        ("ROLLBACK WORK TO SAVEPOINT x", "x", "rollback_to"),
    ],
)
def test_savepoints(sql: str, name: str, action: str) -> None:
    node = parse_one(sql)
    assert isinstance(node, Savepoint)
    assert (node.name, node.args["action"]) == (name, action)
    assert parse_one(node.sql(dialect="sqlvec")) == node


@pytest.mark.parametrize(
    "sql", ["COMMIT PREPARED 'x'", "ROLLBACK PREPARED 'x'", "ROLLBACK AND CHAIN"]
)
def test_unmodelled_transaction_forms_are_commands(sql: str) -> None:
    assert isinstance(parse_one(sql), exp.Command)


@pytest.mark.parametrize(
    ("sql", "message", "position"),
    [
        ("BEGIN FOO", 'syntax error at or near "FOO"', 7),
        ("BEGIN READ", "syntax error at end of input", 11),
        ("BEGIN READ ONLY,", "syntax error at end of input", 17),
        ("START", "syntax error at end of input", 6),
        ("SAVEPOINT", "syntax error at end of input", 10),
        ("ABORT TO x", 'syntax error at or near "TO"', 7),
        ("COMMIT AND", "syntax error at end of input", 11),
    ],
)
def test_transaction_syntax_errors(sql: str, message: str, position: int) -> None:
    assert_syntax_error(sql, message, position)
