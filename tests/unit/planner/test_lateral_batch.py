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
from sqlvec.planner.plans import BatchTopKPlan

QUERIES, ROWS, DIM = 1000, 2000, 8


def run(engine: Engine, sql: str) -> Any:
    plan = planner.plan(parser.parse_one(sql), engine, [], {})
    return plan.node, execute(engine, plan.node, [])


def test_thousand_queries_make_one_batched_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = Engine(tmp_path)
    rng = np.random.default_rng(5)
    docs, queries = rng.standard_normal((ROWS, DIM)), rng.standard_normal((QUERIES, DIM))
    run(engine, f"CREATE TABLE docs (id BIGINT PRIMARY KEY, embedding vector({DIM}))")
    run(engine, f"CREATE TABLE queries (qid BIGINT PRIMARY KEY, vec vector({DIM}))")
    engine.insert("docs", ["id", "embedding"], [[i, v] for i, v in enumerate(docs)])
    engine.insert("queries", ["qid", "vec"], [[i, v] for i, v in enumerate(queries)])
    calls: list[int] = []
    real_knn = search_module.faiss.knn

    def counting_knn(xq: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        calls.append(len(xq))
        return real_knn(xq, *args, **kwargs)

    monkeypatch.setattr(search_module.faiss, "knn", counting_knn)
    node, outcome = run(
        engine,
        "SELECT q.qid, r.id FROM queries q CROSS JOIN LATERAL "
        "(SELECT id FROM docs ORDER BY embedding <-> q.vec LIMIT 3) r ORDER BY q.qid, r.id",
    )
    assert isinstance(node, BatchTopKPlan)
    assert calls == [QUERIES]
    assert len(outcome.rows) == 3 * QUERIES
    nearest = np.argsort(np.linalg.norm(docs - queries[7].astype(np.float32), axis=1))[:3]
    assert sorted(r[1] for r in outcome.rows if r[0] == 7) == sorted(nearest.tolist())
    engine.close()
