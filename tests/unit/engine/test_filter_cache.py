"""A repeated WHERE clause reuses its matching rows and Faiss selector, and never a stale one.

Filtered searches cache what they derive from the rows (`derived_cache`, `allowed_rows`); any
write to the rows must make the next search see it, through every strategy.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from sqlvec import parser, planner
from sqlvec.engine.catalog import CollectionSpec, ColumnSpec
from sqlvec.engine.derived_cache import DerivedCache
from sqlvec.engine.engine import Engine
from sqlvec.engine.executor import execute
from sqlvec.engine.index_types import define_index
from sqlvec.engine.row_filter import matching_positions
from sqlvec.engine.vector_index import SearchSettings
from sqlvec.planner.plans import VectorTopKPlan
from sqlvec.types import FLOAT8, INT4, INT8, TEXT, VECTOR

DIM, ROWS = 8, 4000
SQL = "SELECT id FROM c WHERE cat = $2 ORDER BY e <-> $1 LIMIT 5"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = Engine(tmp_path)
    columns = (
        ColumnSpec("id", INT8, primary_key=True, not_null=True),
        ColumnSpec("cat", INT4),
        ColumnSpec("w", FLOAT8),
        ColumnSpec("t", TEXT),
        ColumnSpec("e", VECTOR, dim=DIM, not_null=True),
    )
    engine.create_collection(CollectionSpec("c", columns, "l2", {"segment_rows": ROWS}))
    vectors = np.random.default_rng(5).standard_normal((ROWS, DIM)).astype(np.float32)
    # cat: 10% of the rows each (ANN with an id selector); w > 0: 50% (over-fetch)
    rows = [[i, i % 10, float(i % 2) - 0.5, str(i % 3), vectors[i]] for i in range(ROWS)]
    engine.insert("c", ["id", "cat", "w", "t", "e"], rows)
    engine.create_index("c", define_index("c_e_idx", "e", DIM, "hnsw", "l2", {"m": 16}))
    yield engine
    engine.close()
    for key in [k for k in _PLANS if k[0] == id(engine)]:
        del _PLANS[key]


_PLANS: dict[tuple[int, str], object] = {}


def search(engine: Engine, sql: str, params: list) -> list[int]:
    """Run one plan per SQL text, as a prepared statement does (the cache is per plan)."""
    key = (id(engine), sql)
    if key not in _PLANS:
        _PLANS[key] = planner.plan(parser.parse_one(sql), engine, [], {}).node
    node = _PLANS[key]
    assert isinstance(node, VectorTopKPlan) and node.row_filter is not None
    outcome = execute(engine, node, params, SearchSettings(ef_search=64))
    return [row[0] for row in outcome.rows]


def test_a_prepared_plan_hits_the_cache(engine: Engine) -> None:
    target = np.zeros(DIM, np.float32)
    search(engine, SQL, [target, 3])
    derived = engine.collection("c").rows.derived
    cached = len(derived)
    search(engine, SQL, [target, 3])
    assert len(derived) == cached > 0  # nothing new: every step was found
    search(engine, SQL, [target, 4])
    assert len(derived) > cached


def test_the_same_clause_and_values_reuse_one_array(engine: Engine) -> None:
    node = planner.plan(parser.parse_one(SQL), engine, [], {}).node
    assert isinstance(node, VectorTopKPlan) and node.row_filter is not None
    rows = engine.collection("c").rows
    first = matching_positions(rows, node.row_filter, [None, 3], len(rows))
    assert matching_positions(rows, node.row_filter, [None, 3], len(rows)) is first
    other = matching_positions(rows, node.row_filter, [None, 4], len(rows))
    assert other is not first and not np.array_equal(other, first)
    assert not first.flags.writeable  # shared between searches: nobody may change it


def _row_filter(engine: Engine, sql: str) -> object:
    node = planner.plan(parser.parse_one(sql), engine, [], {}).node
    assert isinstance(node, VectorTopKPlan) and node.row_filter is not None
    return node.row_filter


def test_statements_with_the_same_where_share_one_array(engine: Engine) -> None:
    """A search, its EXPLAIN and another projection of the same filter: one matching-rows
    array, and so one selector and one filter index for all of them."""
    rows = engine.collection("c").rows
    target = np.zeros(DIM, np.float32)
    same = [
        "SELECT id FROM c WHERE cat = 3 AND t <> '1' ORDER BY e <-> $1 LIMIT 5",
        "SELECT id, e <-> $1 AS d FROM c WHERE cat = 3 AND t <> '1' ORDER BY d LIMIT 9",
        "SELECT id FROM c WHERE cat = $2 AND t <> $3 ORDER BY e <-> $1 LIMIT 5",
    ]
    params: list[list[object]] = [[target], [target], [target, 3, "1"]]
    arrays = [
        matching_positions(rows, _row_filter(engine, sql), values, len(rows))
        for sql, values in zip(same, params, strict=True)
    ]
    assert arrays[1] is arrays[0] and arrays[2] is arrays[0]
    different = [
        "SELECT id FROM c WHERE cat = 3 AND t = '1' ORDER BY e <-> $1 LIMIT 5",  # operator
        "SELECT id FROM c WHERE cat = 3 OR t <> '1' ORDER BY e <-> $1 LIMIT 5",  # connective
        "SELECT id FROM c WHERE cat = 4 AND t <> '1' ORDER BY e <-> $1 LIMIT 5",  # value
        "SELECT id FROM c WHERE cat = 3.0 AND t <> '1' ORDER BY e <-> $1 LIMIT 5",  # its type
    ]
    for sql in different:
        other = matching_positions(rows, _row_filter(engine, sql), [target], len(rows))
        assert other is not arrays[0], sql


@pytest.mark.parametrize(
    ("where", "value"),
    [("cat = $2", 3), ("cat = $2 AND id > 3500", 3), ("w > $2", 0.0)],
    ids=["id selector (10%)", "exact (1%)", "over-fetch (50%)"],
)
def test_writes_between_searches_are_seen(engine: Engine, where: str, value: object) -> None:
    sql = f"SELECT id FROM c WHERE {where} ORDER BY e <-> $1 LIMIT 5"
    target = engine.collection("c").rows.snapshot().vectors["e"][7] + np.float32(0.01)
    before = search(engine, sql, [target, value])
    assert len(before) == 5
    search(engine, sql, [target, value])  # now cached
    # A new row equal to the query vector that matches comes first.
    engine.insert("c", ["id", "cat", "w", "t", "e"], [[10_000, 3, 0.5, "x", target]])
    assert search(engine, sql, [target, value])[0] == 10_000
    # Deleted, it is gone again.
    engine.delete("c", [10_000])
    assert search(engine, sql, [target, value]) == before
    # Updated out of the filter, a result row goes; updated into it, a row comes.
    engine.update("c", [before[0]], {"cat": [99], "w": [-1.0]})
    assert before[0] not in search(engine, sql, [target, value])
    engine.update("c", [before[0]], {"cat": [3], "w": [0.5]})
    assert search(engine, sql, [target, value]) == before


def test_compaction_gives_fresh_positions(engine: Engine) -> None:
    target = engine.collection("c").rows.snapshot().vectors["e"][13].copy()
    before = search(engine, SQL, [target, 3])
    engine.delete("c", list(range(0, 2000)))
    engine.compact("c")
    after = search(engine, SQL, [target, 3])
    assert after == [i for i in after if i >= 2000] and len(after) == 5
    assert [i for i in before if i >= 2000] == after[: len([i for i in before if i >= 2000])]


def test_the_cache_is_bounded_by_bytes_and_dropped_at_a_new_version() -> None:
    cache = DerivedCache(max_bytes=1000)
    cache.put(1, "a", "A", 200)
    cache.put(1, "b", "B", 200)
    assert cache.get(1, "a") == "A"  # now the most recently used
    cache.put(1, "c", "C", 200)
    cache.put(1, "d", "D", 200)
    cache.put(1, "e", "E", 200)  # 1000 bytes: still fits
    cache.put(1, "f", "F", 200)  # the least recently used ("b") goes
    assert cache.get(1, "b") is None
    assert cache.get(1, "a") == "A"
    cache.put(1, "huge", "H", 600)  # over a quarter of the budget: not kept
    assert cache.get(1, "huge") is None
    assert cache.get(2, "a") is None  # the rows changed: everything goes
    assert len(cache) == 0


def test_a_filter_duckdb_evaluates_does_not_fill_the_cache(engine: Engine) -> None:
    """DuckDB's ids make a new array each time: nothing there would be found again."""
    sql = "SELECT id FROM c WHERE t LIKE $2 ORDER BY e <-> $1 LIMIT 5"
    node = planner.plan(parser.parse_one(sql), engine, [], {}).node
    assert isinstance(node, VectorTopKPlan) and node.row_filter is None
    target = np.zeros(DIM, np.float32)
    for _ in range(3):
        outcome = execute(engine, node, [target, "1%"], SearchSettings(ef_search=64))
        assert len(outcome.rows) == 5
    assert len(engine.collection("c").rows.derived) == 0
