"""Recall@10 of each index type against exact search, on seeded data, at documented settings.

Gaussian noise in 32 dimensions is a hard case for IVF (no clusters to find), so these are
the settings docs/collections.md gives for recall >= 0.95 (IVF_PQ >= 0.80).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sqlvec.engine.catalog import CollectionSpec, ColumnSpec
from sqlvec.engine.engine import Engine
from sqlvec.engine.index_types import define_index
from sqlvec.engine.segment_search import SearchRequest
from sqlvec.engine.vector_index import SearchSettings
from sqlvec.types import INT8, VECTOR

DIM, ROWS, QUERIES, K = 32, 10_000, 100, 10


@pytest.fixture(scope="module")
def dataset() -> tuple[np.ndarray, np.ndarray, list[set[int]]]:
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((ROWS, DIM)).astype(np.float32)
    queries = rng.standard_normal((QUERIES, DIM)).astype(np.float32)
    truth = [set(np.argsort(np.linalg.norm(vectors - q, axis=1))[:K].tolist()) for q in queries]
    return vectors, queries, truth


@pytest.fixture
def engine(tmp_path: Path, dataset: Any) -> Iterator[Engine]:
    vectors = dataset[0]
    engine = Engine(tmp_path)
    columns = (
        ColumnSpec("id", INT8, primary_key=True, not_null=True),
        ColumnSpec("e", VECTOR, dim=DIM, not_null=True),
    )
    engine.create_collection(CollectionSpec("r", columns, "l2", {"segment_rows": ROWS // 2}))
    for start in range(0, ROWS, 5000):
        engine.insert("r", ["id", "e"], [[i, vectors[i]] for i in range(start, start + 5000)])
    yield engine
    engine.close()


@pytest.mark.parametrize(
    ("kind", "params", "settings", "floor"),
    [
        ("ivf_flat", {"nlist": 64}, SearchSettings(nprobe=48), 0.95),
        ("ivf_sq8", {"nlist": 64}, SearchSettings(nprobe=48), 0.95),
        ("ivf_pq", {"nlist": 64, "m": 8}, SearchSettings(nprobe=48), 0.80),
        ("hnsw", {"m": 16, "ef_construction": 64}, SearchSettings(ef_search=64), 0.95),
        ("nsg", {}, SearchSettings(search_length=100), 0.95),
    ],
    ids=["ivf_flat", "ivf_sq8", "ivf_pq", "hnsw", "nsg"],
)
def test_recall_at_10_against_exact_search(
    engine: Engine, dataset: Any, kind: str, params: dict, settings: SearchSettings, floor: float
) -> None:
    _, queries, truth = dataset
    engine.create_index("r", define_index("r_e_idx", "e", DIM, kind, "l2", params))
    hits = 0
    for query, expected in zip(queries, truth, strict=True):
        result = engine.search("r", SearchRequest("e", query, K, "l2", settings=settings))
        assert len(result.positions) == K
        hits += len(set(engine.take("r", result.positions, "id")) & expected)
    assert hits / (K * QUERIES) >= floor


@pytest.mark.parametrize(
    ("selectivity", "strategy"),
    [(0.01, "exact"), (0.1, "ann with id selector"), (0.5, "ann over-fetch")],
)
def test_filtered_search_never_comes_back_short(
    engine: Engine, dataset: Any, selectivity: float, strategy: str
) -> None:
    vectors, queries, _ = dataset
    engine.create_index("r", define_index("r_e_idx", "e", DIM, "hnsw", "l2", {}))
    allowed = np.random.default_rng(3).choice(ROWS, int(ROWS * selectivity), replace=False)
    positions = engine.positions_of("r", allowed.tolist())
    hits = 0
    for query in queries[:50]:
        result = engine.search("r", SearchRequest("e", query, K, "l2", candidates=positions))
        assert result.strategy.startswith(strategy)
        assert len(result.positions) == K
        found = set(engine.take("r", result.positions, "id"))
        assert found <= set(allowed.tolist())
        distances = np.linalg.norm(vectors[allowed] - query, axis=1)
        hits += len(found & set(allowed[np.argsort(distances)[:K]].tolist()))
    assert hits / (K * 50) >= 0.95
