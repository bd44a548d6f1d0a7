"""WHERE clauses evaluated over the in-memory columns give DuckDB's answer, NULLs included.

Each predicate is planned as the WHERE of a kNN query; the rows the engine's numpy evaluation
keeps must be exactly the rows DuckDB's own evaluation of the same WHERE selects.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from sqlvec import parser, planner
from sqlvec.engine.catalog import CollectionSpec, ColumnSpec
from sqlvec.engine.engine import Engine
from sqlvec.engine.row_filter import matching_positions
from sqlvec.planner.plans import VectorTopKPlan
from sqlvec.types import BOOL, FLOAT8, INT4, INT8, TEXT, VECTOR

ROWS = 400


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = Engine(Path(tmp_path_factory.mktemp("row_filter")))
    columns = (
        ColumnSpec("id", INT8, primary_key=True, not_null=True),
        ColumnSpec("a", INT4),
        ColumnSpec("b", FLOAT8),
        ColumnSpec("t", TEXT),
        ColumnSpec("flag", BOOL),
        ColumnSpec("e", VECTOR, dim=2, not_null=True),
    )
    engine.create_collection(CollectionSpec("f", columns))
    rng = np.random.default_rng(7)
    words = ["red", "green", "blue", "it's", ""]

    def maybe(value: object, i: int) -> object:
        return None if i % 7 == 3 else value

    rows = [
        [
            i * 3,
            maybe(int(rng.integers(-5, 6)), i),
            maybe(float(rng.normal()), i + 1),
            maybe(words[int(rng.integers(0, len(words)))], i + 2),
            maybe(bool(rng.integers(0, 2)), i + 4),
            rng.standard_normal(2).astype(np.float32),
        ]
        for i in range(ROWS)
    ]
    engine.insert("f", ["id", "a", "b", "t", "flag", "e"], rows)
    engine.delete("f", [0, 3, 6])  # deleted rows never match
    yield engine
    engine.close()


PREDICATES = [
    ("a = 2", []),
    ("a <> 2", []),
    ("2 < a", []),
    ("a >= $1", [1]),
    ("a = $1", [None]),
    ("a BETWEEN -1 AND 2", []),
    ("a NOT BETWEEN -1 AND 2", []),
    ("a IN (1, 3, 5)", []),
    ("a NOT IN (1, 3, 5)", []),
    ("a IN (1, NULL)", []),
    ("a NOT IN (1, NULL)", []),
    ("a IS NULL", []),
    ("a IS NOT NULL", []),
    ("b > 0.5 OR a < -3", []),
    ("b > 0.5 AND a < -3", []),
    ("NOT (b > 0.5 AND a < 0)", []),
    ("NOT (b > 0.5 OR a < 0)", []),
    ("t = 'red'", []),
    ("t <> 'red'", []),
    ("t = $1", ["it's"]),
    ("t = ''", []),
    ("t = 'missing'", []),
    ("t IN ('red', 'blue')", []),
    ("t NOT IN ('red', 'blue')", []),
    ("t IS NULL OR flag", []),
    ("flag", []),
    ("NOT flag", []),
    ("flag = true", []),
    ("id > 600 AND id < 900", []),
    ("f.a = 1", []),
    ("(a = 1 OR a = 2) AND (t = 'green' OR t IS NULL)", []),
    ("a > -2.5", []),
]


@pytest.mark.parametrize(("where", "params"), PREDICATES, ids=[p for p, _ in PREDICATES])
def test_in_memory_filter_matches_duckdb(engine: Engine, where: str, params: list) -> None:
    sql = f"SELECT id FROM f WHERE {where} ORDER BY e <-> '[0,0]' LIMIT 5"
    node = planner.plan(parser.parse_one(sql), engine, [], {}).node
    assert isinstance(node, VectorTopKPlan)
    assert node.row_filter is not None, "expected a predicate evaluated in memory"
    assert node.filter is not None
    rows = engine.collection("f").rows
    positions = matching_positions(rows, node.row_filter, params, len(rows))
    live = positions[~rows.deleted_mask()[positions]]
    in_memory = sorted(rows.ids()[live].tolist())
    duckdb = sorted(r[0] for r in engine.run_sql(node.filter.sql, node.filter.bind(params)).rows)
    assert in_memory == duckdb
    assert len(duckdb) < ROWS  # every predicate excludes something: the check can fail


@pytest.mark.parametrize(
    "where",
    [
        "a + 1 = 2",  # arithmetic on the column
        "t < 'm'",  # text ordering follows DuckDB's collation
        "t LIKE 'r%'",
        "a = '2'",  # a string against a number: Postgres' cast rules
        "lower(t) = 'red'",
        "a IN (SELECT 1)",
    ],
)
def test_other_predicates_stay_with_duckdb(engine: Engine, where: str) -> None:
    sql = f"SELECT id FROM f WHERE {where} ORDER BY e <-> '[0,0]' LIMIT 5"
    node = planner.plan(parser.parse_one(sql), engine, [], {}).node
    assert isinstance(node, VectorTopKPlan)
    assert node.filter is not None
    assert node.row_filter is None


def test_updates_and_appends_are_seen(tmp_path: Path) -> None:
    engine = Engine(tmp_path)
    columns = (
        ColumnSpec("id", INT8, primary_key=True, not_null=True),
        ColumnSpec("t", TEXT),
        ColumnSpec("e", VECTOR, dim=2, not_null=True),
    )
    engine.create_collection(CollectionSpec("g", columns))
    vector = np.zeros(2, np.float32)
    engine.insert("g", ["id", "t", "e"], [[1, "a", vector], [2, "b", vector]])
    sql = "SELECT id FROM g WHERE t = $1 ORDER BY e <-> '[0,0]' LIMIT 5"
    node = planner.plan(parser.parse_one(sql), engine, [], {}).node
    rows = engine.collection("g").rows

    def ids(value: str) -> list[int]:
        positions = matching_positions(rows, node.row_filter, [value], len(rows))
        return rows.ids()[positions].tolist()

    assert ids("a") == [1]
    engine.insert("g", ["id", "t", "e"], [[3, "a", vector], [4, "c", vector]])
    assert ids("a") == [1, 3]
    assert ids("c") == [4]
    engine.update("g", [1], {"t": ["c"]})
    assert ids("a") == [3]
    assert ids("c") == [1, 4]
    engine.close()
