"""Engine: DuckDB persistence, in-memory search copy, exact kNN against numpy brute force."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sqlvec.engine.catalog import CollectionSpec, ColumnSpec
from sqlvec.engine.engine import Engine
from sqlvec.engine.segment_search import SearchRequest
from sqlvec.errors import (
    DataException,
    DuplicateTable,
    NotNullViolation,
    UndefinedColumn,
    UndefinedTable,
    UniqueViolation,
)
from sqlvec.types import INT4, INT8, TEXT, VECTOR

DIM = 8


def docs_spec(metric: str = "l2") -> CollectionSpec:
    return CollectionSpec(
        "docs",
        (
            ColumnSpec("id", INT8, primary_key=True, not_null=True),
            ColumnSpec("title", TEXT),
            ColumnSpec("year", INT4),
            ColumnSpec("embedding", VECTOR, dim=DIM, not_null=True),
        ),
        metric,
    )


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = Engine(tmp_path)
    engine.create_collection(docs_spec())
    yield engine
    engine.close()


def knn(
    engine: Engine, name: str, column: str, query: np.ndarray, k: int, metric: str, **options: Any
) -> tuple[np.ndarray, np.ndarray]:
    result = engine.search(name, SearchRequest(column, query, k, metric, **options))
    return result.positions, result.distances


def seeded_vectors(n: int, seed: int = 7) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)


def fill(engine: Engine, vectors: np.ndarray) -> None:
    rows = [[i + 1, f"t{i}", 2000 + i % 20, v] for i, v in enumerate(vectors)]
    engine.insert("docs", ["id", "title", "year", "embedding"], rows)


@pytest.mark.parametrize("metric", ["l2", "ip", "cosine", "l1"])
def test_exact_knn_equals_numpy_brute_force(engine: Engine, metric: str) -> None:
    vectors = seeded_vectors(500)
    fill(engine, vectors)
    query = seeded_vectors(1, seed=99)[0]
    positions, distances = knn(engine, "docs", "embedding", query, 10, metric)
    if metric == "l2":
        expected = np.linalg.norm(vectors - query, axis=1)
    elif metric == "ip":
        expected = -(vectors @ query)
    elif metric == "l1":
        expected = np.abs(vectors - query).sum(axis=1)
    else:
        cosine = (vectors @ query) / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))
        expected = 1 - cosine
    order = np.argsort(expected, kind="stable")[:10]
    assert positions.tolist() == order.tolist()
    np.testing.assert_allclose(distances, expected[order], rtol=1e-4, atol=1e-5)


def test_descending_and_candidate_subset(engine: Engine) -> None:
    vectors = seeded_vectors(200)
    fill(engine, vectors)
    query = vectors[0]
    candidates = np.arange(100, 200, dtype=np.int64)
    positions, _ = knn(engine, "docs", "embedding", query, 5, "l2", candidates=candidates)
    expected = 100 + np.argsort(np.linalg.norm(vectors[100:] - query, axis=1))[:5]
    assert positions.tolist() == expected.tolist()
    far, _ = knn(engine, "docs", "embedding", query, 3, "l2", descending=True)
    assert far.tolist() == np.argsort(-np.linalg.norm(vectors - query, axis=1))[:3].tolist()


def test_rows_survive_reopen(tmp_path: Path) -> None:
    engine = Engine(tmp_path)
    engine.create_collection(docs_spec())
    vectors = seeded_vectors(50)
    fill(engine, vectors)
    engine.close()
    reopened = Engine(tmp_path)
    assert reopened.row_count("docs") == 50
    positions, _ = knn(reopened, "docs", "embedding", vectors[3], 1, "l2")
    assert reopened.take("docs", positions, "title") == ["t3"]
    assert reopened.take("docs", positions, "id") == [4]
    reopened.close()


def test_generated_ids_continue_after_reopen(tmp_path: Path) -> None:
    spec = CollectionSpec(
        "auto",
        (
            ColumnSpec("id", INT8, primary_key=True, generated=True, not_null=True),
            ColumnSpec("embedding", VECTOR, dim=2, not_null=True),
        ),
    )
    engine = Engine(tmp_path)
    engine.create_collection(spec)
    first = engine.insert("auto", ["embedding"], [["[1,2]"], ["[3,4]"]])
    assert engine.take("auto", first, "id") == [1, 2]
    engine.close()
    engine = Engine(tmp_path)
    later = engine.insert("auto", ["embedding"], [["[5,6]"]])
    assert engine.take("auto", later, "id") == [3]
    engine.close()


def test_bad_inserts_leave_no_rows(engine: Engine) -> None:
    fill(engine, seeded_vectors(3))
    cases = [
        (["id", "embedding"], [[1, "[" + ",".join(["1"] * DIM) + "]"]], UniqueViolation),
        (["id", "embedding"], [[10, "[1,2]"]], DataException),
        (["id", "embedding"], [[None, seeded_vectors(1)[0]]], NotNullViolation),
        (["id", "nope"], [[11, 1]], UndefinedColumn),
        (["id", "embedding"], [[12, "[" + ",".join(["nan"] * DIM) + "]"]], DataException),
        (
            ["id", "embedding"],
            [[13, seeded_vectors(1)[0]], [13, seeded_vectors(1)[0]]],
            UniqueViolation,
        ),
    ]
    for columns, rows, error in cases:
        with pytest.raises(error):
            engine.insert("docs", columns, rows)
    assert engine.row_count("docs") == 3
    assert engine.run_sql("SELECT count(*) FROM docs", []).rows == [(3,)]


def test_catalog_errors(engine: Engine) -> None:
    with pytest.raises(DuplicateTable):
        engine.create_collection(docs_spec())
    assert engine.create_collection(docs_spec(), if_not_exists=True) is False
    with pytest.raises(UndefinedTable):
        engine.drop_collection("missing")
    assert engine.drop_collection("missing", if_exists=True) is False
    with pytest.raises(UndefinedTable):
        knn(engine, "missing", "embedding", np.zeros(DIM, np.float32), 1, "l2")


def test_scalar_sql_runs_in_duckdb(engine: Engine) -> None:
    fill(engine, seeded_vectors(40))
    result = engine.run_sql(
        "SELECT year, count(*) FROM docs GROUP BY year ORDER BY year LIMIT 2", []
    )
    assert result.rows == [(2000, 2), (2001, 2)]
    assert [c[1].name for c in result.columns] == ["int4", "int8"]
    vector_result = engine.run_sql("SELECT embedding FROM docs WHERE id = $1", [1])
    assert vector_result.columns[0][1] == VECTOR and vector_result.columns[0][2] == DIM
    assert isinstance(vector_result.rows[0][0], np.ndarray)


def test_cosine_zero_vectors_sort_last_with_nan(engine: Engine) -> None:
    vectors = np.array([[0] * DIM, [1] + [0] * (DIM - 1), [-1] + [0] * (DIM - 1)], np.float32)
    fill(engine, vectors)
    positions, distances = knn(engine, "docs", "embedding", vectors[2], 3, "cosine")
    assert positions.tolist() == [2, 1, 0]
    assert distances[:2].tolist() == [0.0, 2.0] and np.isnan(distances[2])
