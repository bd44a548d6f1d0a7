"""Session: statements are parsed and planned once, then only executed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import sqlvec.parser
from sqlvec import planner
from sqlvec.engine.engine import Engine
from sqlvec.session import Session
from sqlvec.wire.handler import QueryResult


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = Engine(tmp_path)
    pool = ThreadPoolExecutor(2)
    yield Session(engine, pool, 1)
    pool.shutdown()
    engine.close()


class Counter:
    """Wraps a function and counts its calls (the real function still runs)."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.function(*args, **kwargs)


def run_simple(session: Session, sql: str) -> list[QueryResult]:
    async def collect() -> list[QueryResult]:
        return [result async for result in session.simple_query(sql)]

    return asyncio.run(collect())


def test_prepared_statement_is_parsed_and_planned_once(session: Session, monkeypatch) -> None:
    run_simple(session, "CREATE TABLE s (id BIGINT PRIMARY KEY, e vector(2))")
    run_simple(session, "INSERT INTO s VALUES (1, '[1,1]'), (2, '[5,5]')")
    parses = Counter(sqlvec.parser.parse)
    plans = Counter(planner.plan)
    monkeypatch.setattr(sqlvec.parser, "parse", parses)
    monkeypatch.setattr(planner, "plan", plans)

    async def run() -> list[list[int]]:
        await session.parse("knn", "SELECT id FROM s ORDER BY e <-> $1 LIMIT 1", [])
        answers = []
        for query in ([0, 0], [6, 6], [1, 2]):
            session.bind("", "knn", [np.array(query, np.float32)], [0])
            result = await session.execute("", 0)
            answers.append([row[0] for row in result.rows])
        return answers

    assert asyncio.run(run()) == [[1], [2], [1]]
    assert (parses.calls, plans.calls) == (1, 1)


def test_same_sql_text_is_served_from_the_cache(session: Session, monkeypatch) -> None:
    parses = Counter(sqlvec.parser.parse)
    monkeypatch.setattr(sqlvec.parser, "parse", parses)
    for _ in range(3):
        results = run_simple(session, "SELECT 1; SELECT 2")
        assert [r.rows for r in results] == [[(1,)], [(2,)]]
    assert parses.calls == 1


def test_statements_of_one_query_are_planned_in_turn(session: Session) -> None:
    results = run_simple(
        session,
        "CREATE TABLE t (id BIGINT PRIMARY KEY, e vector(2)); "
        "INSERT INTO t VALUES (7, '[1,2]'); SELECT id FROM t ORDER BY e <-> '[1,2]' LIMIT 1",
    )
    assert [r.tag for r in results] == ["CREATE TABLE", "INSERT 0 1", "SELECT 1"]
    assert results[2].rows == [(7,)]


def test_ddl_replans_a_prepared_statement_without_reparsing(session: Session) -> None:
    run_simple(session, "CREATE TABLE u (id BIGINT PRIMARY KEY, e vector(2))")

    async def prepare_then_recreate() -> list[str]:
        await session.parse("q", "SELECT id FROM u ORDER BY e <-> '[0,0]' LIMIT 1", [])
        tags = [r.tag async for r in session.simple_query("DROP TABLE u")]
        tags += [
            r.tag
            async for r in session.simple_query(
                "CREATE TABLE u (id BIGINT PRIMARY KEY, e vector(2)); INSERT INTO u VALUES (3, '[0,0]')"
            )
        ]
        session.bind("", "q", [], [0])
        result = await session.execute("", 0)
        return [*tags, str(result.rows)]

    assert asyncio.run(prepare_then_recreate()) == [
        "DROP TABLE",
        "CREATE TABLE",
        "INSERT 0 1",
        "[(3,)]",
    ]
