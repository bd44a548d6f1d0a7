"""Ordinary SQL that clients and the DESIGN's examples send parses to real nodes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlglot import exp

from sqlvec.parser import (
    CosineDistance,
    L2Distance,
    ResetVariable,
    Savepoint,
    SetVariable,
    Show,
    parse,
    parse_one,
)

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("sql", "node"),
    [
        ("SELECT version()", exp.Select),
        ("SELECT 1", exp.Select),
        ("SELECT count(*) FROM docs GROUP BY year HAVING count(*) > 1", exp.Select),
        ("SELECT d.id, m.x FROM docs d JOIN meta m ON m.id = d.id", exp.Select),
        ("SELECT * FROM docs d LEFT JOIN meta m USING (id) WHERE m.x IS NULL", exp.Select),
        ("SELECT * FROM a CROSS JOIN b", exp.Select),
        (
            "INSERT INTO docs (id, embedding) VALUES (1, '[1,2,3]'), (2, $1) RETURNING id",
            exp.Insert,
        ),
        ("SELECT * FROM docs WHERE id = ANY($1)", exp.Select),
        ("SELECT '[1,2]'::vector <-> '[3,4]'", exp.Select),
        ("SELECT pg_advisory_unlock_all()", exp.Select),
        ("SELECT current_setting('jit'), set_config('jit', 'off', false)", exp.Select),
        ("SELECT t.oid FROM pg_type t WHERE t.oid = any($1::oid[])", exp.Select),
        ("SELECT x::regtype::text FROM t", exp.Select),
        ("WITH a AS (SELECT 1 AS x) SELECT x FROM a", exp.Select),
        ("SELECT 1 UNION ALL SELECT 2", exp.Union),
        ("(SELECT 1)", exp.Subquery),
        ("VALUES (1), (2)", exp.Values),
        ("TABLE docs", exp.Select),
        ("SELECT row_number() OVER (PARTITION BY year ORDER BY id) FROM docs", exp.Select),
        ("UPDATE docs SET title = $1 WHERE id = $2", exp.Update),
        ("DELETE FROM docs WHERE id IN (1, 2, 3)", exp.Delete),
        ("DELETE FROM docs WHERE year < 1990", exp.Delete),
        (
            "INSERT INTO docs (id, title) VALUES (1, 'a') "
            "ON CONFLICT (id) DO UPDATE SET title = excluded.title",
            exp.Insert,
        ),
        ("COPY docs (id, title, embedding) FROM STDIN WITH (FORMAT binary)", exp.Copy),
        ("COPY (SELECT 1) TO STDOUT", exp.Copy),
        ("SELECT * FROM sqlvec_collection_stats('docs')", exp.Select),
        ("SHOW transaction_read_only", Show),
        ("SET extra_float_digits = 3", SetVariable),
        ("RESET ALL", ResetVariable),
        ('SAVEPOINT "_pg3_1"', Savepoint),
        ("BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE", exp.Transaction),
    ],
)
def test_ordinary_sql(sql: str, node: type) -> None:
    assert type(parse_one(sql)) is node


def test_design_knn_queries() -> None:
    knn = parse_one(
        "SELECT id, title, embedding <-> $1 AS distance FROM docs WHERE year > 2000 "
        "ORDER BY distance LIMIT 10"
    )
    assert knn.find(L2Distance) is not None
    batched = parse_one(
        "SELECT q.qid, r.id, r.distance FROM queries q CROSS JOIN LATERAL ("
        "SELECT id, embedding <=> q.embedding AS distance FROM docs ORDER BY distance LIMIT 10) r"
    )
    assert batched.find(CosineDistance) is not None


def test_asyncpg_pool_reset() -> None:
    sql = "SELECT pg_advisory_unlock_all();\nCLOSE ALL;\nUNLISTEN *;\nRESET ALL;"
    kinds = [type(s) for s in parse(sql)]
    assert kinds == [exp.Select, exp.Command, exp.Command, ResetVariable]


@pytest.mark.parametrize(
    "sql",
    [
        "DECLARE c CURSOR FOR SELECT 1",
        "FETCH FORWARD 5 FROM c",
        "CLOSE c",
        "DEALLOCATE ALL",
        "DISCARD ALL",
        "PREPARE p AS SELECT 1",
        "EXECUTE p",
        "LISTEN chan",
        "NOTIFY chan",
        "CHECKPOINT",
        "VACUUM",
    ],
)
def test_postgres_statements_sqlvec_does_not_model_are_commands(sql: str) -> None:
    # The planner answers these with 0A000; they must not be syntax errors.
    assert isinstance(parse_one(sql), exp.Command)


def _client_cases() -> list[pytest.ParameterSet]:
    text = (FIXTURES / "client_queries.sql").read_text()
    parts = re.split(r"^-- name: (.*)$", text, flags=re.M)[1:]
    names, bodies = parts[0::2], parts[1::2]
    return [
        pytest.param(name.strip(), sql, id=name.strip())
        for name, sql in zip(names, bodies, strict=True)
    ]


@pytest.mark.parametrize(("name", "sql"), _client_cases())
def test_captured_client_sql_parses(name: str, sql: str) -> None:
    statements = parse(sql)
    assert statements, name
    commands = [s for s in statements if isinstance(s, exp.Command)]
    # Only asyncpg's pool reset holds statements sqlvec keeps as Command (CLOSE, UNLISTEN).
    assert not commands or "reset" in name, name
