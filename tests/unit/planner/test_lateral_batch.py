"""A LATERAL join of a vector search runs as one batched Faiss search, not one per outer row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import sqlvec.engine.search as search_module
from sqlvec import parser, planner
from sqlvec.engine.engine import Engine
from sqlvec.engine.executor import execute
from sqlvec.engine.index_types import define_index
from sqlvec.engine.vector_index import BuiltIndex
from sqlvec.planner.plans import BatchTopKPlan

QUERIES, ROWS, DIM = 1000, 2000, 8


def run(engine: Engine, sql: str) -> Any:
    plan = planner.plan(parser.parse_one(sql), engine, [], {})
    return plan.node, execute(engine, plan.node, [])


def test_thousand_queries_make_one_batched_search(tmp_path: Path, faiss_calls: list[int]) -> None:
    engine = Engine(tmp_path)
    rng = np.random.default_rng(5)
    docs, queries = rng.standard_normal((ROWS, DIM)), rng.standard_normal((QUERIES, DIM))
    run(engine, f"CREATE TABLE docs (id BIGINT PRIMARY KEY, embedding vector({DIM}))")
    run(engine, f"CREATE TABLE queries (qid BIGINT PRIMARY KEY, vec vector({DIM}))")
    engine.insert("docs", ["id", "embedding"], [[i, v] for i, v in enumerate(docs)])
    engine.insert("queries", ["qid", "vec"], [[i, v] for i, v in enumerate(queries)])
    faiss_calls.clear()
    node, outcome = run(
        engine,
        "SELECT q.qid, r.id FROM queries q CROSS JOIN LATERAL "
        "(SELECT id FROM docs ORDER BY embedding <-> q.vec LIMIT 3) r ORDER BY q.qid, r.id",
    )
    assert isinstance(node, BatchTopKPlan)
    assert faiss_calls == [QUERIES]
    assert len(outcome.rows) == 3 * QUERIES
    nearest = np.argsort(np.linalg.norm(docs - queries[7].astype(np.float32), axis=1))[:3]
    assert sorted(r[1] for r in outcome.rows if r[0] == 7) == sorted(nearest.tolist())
    engine.close()


@pytest.fixture
def faiss_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of query vectors of each Faiss kNN call."""
    calls: list[int] = []
    real_knn = search_module.faiss.knn

    def counting_knn(xq: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        calls.append(len(xq))
        return real_knn(xq, *args, **kwargs)

    monkeypatch.setattr(search_module.faiss, "knn", counting_knn)
    return calls


def array_parameter_engine(tmp_path: Path) -> tuple[Engine, np.ndarray, np.ndarray]:
    engine = Engine(tmp_path)
    rng = np.random.default_rng(11)
    docs = rng.standard_normal((ROWS, DIM)).astype(np.float32)
    queries = rng.standard_normal((QUERIES, DIM)).astype(np.float32)
    run(engine, f"CREATE TABLE docs (id BIGINT PRIMARY KEY, category INT, embedding vector({DIM}))")
    run(engine, "CREATE PARTITION p1 ON docs")
    half = ROWS // 2
    engine.insert(
        "docs", ["id", "category", "embedding"], [[i, i % 3, docs[i]] for i in range(half)]
    )
    engine.insert(
        "docs",
        ["id", "category", "embedding"],
        [[i, i % 3, docs[i]] for i in range(half, ROWS)],
        partition="p1",
    )
    return engine, docs, queries


def nearest(docs: np.ndarray, query: np.ndarray, allowed: np.ndarray, k: int) -> list[int]:
    distances = np.linalg.norm(docs[allowed] - query, axis=1)
    return allowed[np.argsort(distances, kind="stable")[:k]].tolist()


@pytest.mark.parametrize(
    ("inner", "allowed"),
    [
        ("FROM docs", lambda ids: ids),
        ("FROM docs WHERE category = 1", lambda ids: ids[ids % 3 == 1]),
        ("FROM docs PARTITION (p1)", lambda ids: ids[ids >= ROWS // 2]),
    ],
    ids=["plain", "filtered", "partitioned"],
)
def test_array_parameter_of_thousand_vectors_makes_one_batched_search(
    tmp_path: Path, faiss_calls: list[int], inner: str, allowed: Any
) -> None:
    engine, docs, queries = array_parameter_engine(tmp_path)
    sql = (
        "SELECT q.n, r.id FROM unnest($1::vector[]) WITH ORDINALITY AS q(v, n) CROSS JOIN "
        f"LATERAL (SELECT id {inner} ORDER BY embedding <-> q.v LIMIT 3) r ORDER BY q.n"
    )
    plan = planner.plan(parser.parse_one(sql), engine, [], {})
    assert isinstance(plan.node, BatchTopKPlan)
    assert [t.name for t in plan.param_types] == ["_vector"]  # ParameterDescription
    faiss_calls.clear()
    # As the wire layer decodes a `_vector` parameter: a list of float32 arrays.
    outcome = execute(engine, plan.node, [list(queries)])
    assert faiss_calls == [QUERIES]
    assert len(outcome.rows) == 3 * QUERIES
    candidates = allowed(np.arange(ROWS))
    for n in (1, 500, QUERIES):
        found = [row[1] for row in outcome.rows if row[0] == n]
        assert sorted(found) == sorted(nearest(docs, queries[n - 1], candidates, 3))
    engine.close()


@pytest.mark.parametrize(
    ("select", "direct"),
    [
        ("q.qid, r.id, r.distance", ((True, "qid"), (False, "id"), (False, "distance"))),
        ("r.id AS x, q.vec", ((False, "id"), (True, "vec"))),
        ("qid, id", None),  # unqualified: left to DuckDB's name resolution
        ("q.qid + 1, r.id", None),
        ("q.*, r.id", None),
        ("q.qid, r.id ORDER BY q.qid", None),
        ("DISTINCT q.qid", None),
        ("q.qid, r.id LIMIT 5", None),
    ],
)
def test_only_a_list_of_either_sides_columns_skips_duckdb(
    tmp_path: Path, select: str, direct: object
) -> None:
    engine = Engine(tmp_path)
    run(engine, "CREATE TABLE docs (id BIGINT PRIMARY KEY, embedding vector(2))")
    run(engine, "CREATE TABLE queries (qid BIGINT PRIMARY KEY, vec vector(2))")
    head, _, tail = select.partition(" ORDER BY ")
    head, _, limit = head.partition(" LIMIT ")
    sql = (
        f"SELECT {head} FROM queries q CROSS JOIN LATERAL (SELECT id, embedding <-> q.vec AS "
        "distance FROM docs ORDER BY distance LIMIT 3) r"
        + (f" ORDER BY {tail}" if tail else "")
        + (f" LIMIT {limit}" if limit else "")
    )
    node = planner.plan(parser.parse_one(sql), engine, [], {}).node
    assert isinstance(node, BatchTopKPlan)
    assert node.direct == direct
    engine.close()


def test_composed_rows_equal_duckdbs(tmp_path: Path) -> None:
    """The same statement composed directly and run by DuckDB (ORDER BY forces DuckDB)."""
    engine = Engine(tmp_path)
    rng = np.random.default_rng(9)
    run(engine, "CREATE TABLE docs (id BIGINT PRIMARY KEY, t TEXT, embedding vector(4))")
    run(engine, "CREATE TABLE queries (qid BIGINT PRIMARY KEY, vec vector(4))")
    engine.insert(
        "docs", ["id", "t", "embedding"], [[i, f"d{i}", rng.standard_normal(4)] for i in range(50)]
    )
    engine.insert("queries", ["qid", "vec"], [[i * 7, rng.standard_normal(4)] for i in range(20)])
    inner = "(SELECT id, t, embedding <-> q.vec AS d FROM docs ORDER BY d LIMIT 4) r"
    columns = "q.qid, r.t, r.d, r.id"
    node, composed = run(engine, f"SELECT {columns} FROM queries q CROSS JOIN LATERAL {inner}")
    assert isinstance(node, BatchTopKPlan) and node.direct is not None
    _, by_duckdb = run(
        engine, f"SELECT {columns} FROM queries q CROSS JOIN LATERAL {inner} ORDER BY q.qid, r.d"
    )
    assert composed.columns == by_duckdb.columns
    assert [tuple(row) for row in composed.rows] == [tuple(row) for row in by_duckdb.rows]
    engine.close()


@pytest.mark.parametrize(
    ("where", "allowed"),
    [
        ("category = 1", lambda ids: ids % 10 == 1),  # 10 %: the indexes with an id selector
        ("category <> 1", lambda ids: ids % 10 != 1),  # 90 %: the indexes, over-fetching
        ("category = 1 AND id < 400", lambda ids: (ids % 10 == 1) & (ids < 400)),  # 1 %: exact
    ],
    ids=["selector", "over-fetch", "exact"],
)
def test_filtered_lateral_through_an_index_is_one_batched_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, allowed: Any
) -> None:
    engine = Engine(tmp_path)
    rng = np.random.default_rng(3)
    docs = rng.standard_normal((4000, DIM)).astype(np.float32)
    queries = rng.standard_normal((200, DIM)).astype(np.float32)
    run(engine, f"CREATE TABLE docs (id BIGINT PRIMARY KEY, category INT, embedding vector({DIM}))")
    engine.insert(
        "docs", ["id", "category", "embedding"], [[i, i % 10, docs[i]] for i in range(4000)]
    )
    engine.create_index("docs", define_index("docs_idx", "embedding", DIM, "hnsw", "l2", {"m": 16}))
    batched: list[int] = []
    single: list[int] = []
    real_many, real_one = BuiltIndex.search_many, BuiltIndex.search

    def counting_many(self: BuiltIndex, queries: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        batched.append(len(queries))
        return real_many(self, queries, *args, **kwargs)

    def counting_one(self: BuiltIndex, *args: Any, **kwargs: Any) -> Any:
        single.append(1)
        return real_one(self, *args, **kwargs)

    monkeypatch.setattr(BuiltIndex, "search_many", counting_many)
    monkeypatch.setattr(BuiltIndex, "search", counting_one)
    sql = (
        "SELECT q.n, r.id FROM unnest($1::vector[]) WITH ORDINALITY AS q(v, n) CROSS JOIN "
        f"LATERAL (SELECT id FROM docs WHERE {where} ORDER BY embedding <-> q.v LIMIT 10) r"
    )
    plan = planner.plan(parser.parse_one(sql), engine, [], {})
    outcome = execute(engine, plan.node, [list(queries)])
    ids = np.arange(4000)
    candidates = ids[allowed(ids)]
    expected_batches = [] if len(candidates) < 0.02 * 4000 else [len(queries)]
    assert batched == expected_batches
    assert len(single) <= 2  # only a query whose filtered answer fell short is redone
    hits = 0
    for n in range(1, len(queries) + 1):
        found = [row[1] for row in outcome.rows if row[0] == n]
        assert len(found) == 10  # never short
        hits += len(set(found) & set(nearest(docs, queries[n - 1], candidates, 10)))
    assert hits / (10 * len(queries)) >= 0.95
    engine.close()


def test_composed_columns_are_each_engines_own(tmp_path: Path) -> None:
    """Two engines at the same catalog version, one statement text, different column types:
    the described columns of one are never the other's."""
    sql = (
        "SELECT q.tag, r.id FROM queries q CROSS JOIN LATERAL "
        "(SELECT id FROM docs ORDER BY embedding <-> q.vec LIMIT 1) r"
    )
    types = []
    for name, tag_type, tag in (("a", "INT", 7), ("b", "TEXT", "seven")):
        engine = Engine(tmp_path / name)
        run(engine, "CREATE TABLE docs (id BIGINT PRIMARY KEY, embedding vector(2))")
        run(engine, f"CREATE TABLE queries (qid BIGINT PRIMARY KEY, tag {tag_type}, vec vector(2))")
        engine.insert("docs", ["id", "embedding"], [[1, np.zeros(2, np.float32)]])
        engine.insert("queries", ["qid", "tag", "vec"], [[1, tag, np.ones(2, np.float32)]])
        node, outcome = run(engine, sql)
        assert isinstance(node, BatchTopKPlan) and node.direct is not None
        assert outcome.rows == [(tag, 1)]
        types.append(outcome.columns[0].type.name)
        engine.close()
    assert types == ["int4", "text"]
