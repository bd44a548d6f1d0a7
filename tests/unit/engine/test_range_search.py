"""Range search in the engine: exact where it must be, recall of IVF against brute force.

Each query's radius is its 50th neighbour's distance, so every range holds about 50 rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from sqlvec.engine.catalog import CollectionSpec, ColumnSpec
from sqlvec.engine.engine import Engine
from sqlvec.engine.index_types import define_index
from sqlvec.engine.range_run import distance_bound
from sqlvec.engine.search import pairwise
from sqlvec.engine.segment_search import SearchRequest
from sqlvec.engine.vector_index import SearchSettings
from sqlvec.types import INT8, VECTOR

DIM, ROWS, QUERIES, IN_RANGE = 16, 6000, 20, 50


def make_engine(path: Path, metric: str, vectors: np.ndarray) -> Engine:
    engine = Engine(path)
    columns = (
        ColumnSpec("id", INT8, primary_key=True, not_null=True),
        ColumnSpec("e", VECTOR, dim=DIM, not_null=True),
    )
    engine.create_collection(CollectionSpec("r", columns, metric, {"segment_rows": 2500}))
    engine.insert("r", ["id", "e"], [[i, vectors[i]] for i in range(ROWS)])
    return engine


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((ROWS, DIM)).astype(np.float32)
    return vectors, rng.standard_normal((QUERIES, DIM)).astype(np.float32)


@pytest.fixture
def engine(tmp_path: Path, data: tuple[np.ndarray, np.ndarray]) -> Iterator[Engine]:
    engine = make_engine(tmp_path, "l2", data[0])
    yield engine
    engine.close()


def in_range(
    engine: Engine, query: np.ndarray, radius: float, metric: str = "l2", **options: object
) -> np.ndarray:
    """Ids within `radius` (distance < radius), ordered by distance."""
    request = SearchRequest("e", query, 1, metric, **options)  # type: ignore[arg-type]
    result = engine.range_search("r", request, distance_bound((), "<", radius), None)
    return engine.collection("r").rows.ids()[result.positions]


def truth(vectors: np.ndarray, query: np.ndarray, radius: float, metric: str) -> set[int]:
    return set(np.flatnonzero(pairwise(vectors, query, metric) < radius).tolist())


def radius_of(vectors: np.ndarray, query: np.ndarray, metric: str) -> float:
    # Halfway between two neighbours: no row sits on the bound, where float rounding decides.
    nearest = np.sort(pairwise(vectors, query, metric))
    return float((nearest[IN_RANGE - 1] + nearest[IN_RANGE]) / 2)


def test_exact_range_matches_brute_force_in_order(engine: Engine, data: tuple) -> None:
    vectors, queries = data
    for query in queries[:5]:
        radius = radius_of(vectors, query, "l2")
        found = in_range(engine, query, radius)
        expected = truth(vectors, query, radius, "l2")
        assert set(found.tolist()) == expected and len(found) == IN_RANGE
        distances = pairwise(vectors[found], query, "l2")
        assert np.all(np.diff(distances) >= 0)


@pytest.mark.parametrize(
    ("kind", "params", "floor"),
    [
        ("flat", {}, 1.0),
        ("ivf_flat", {"nlist": 32}, 0.95),
        ("ivf_sq8", {"nlist": 32}, 0.9),
        ("hnsw", {"m": 8}, 1.0),  # scanned exactly: Faiss' HNSW range search stops at ef
    ],
)
@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
def test_index_range_recall_against_brute_force(
    tmp_path: Path, data: tuple, kind: str, params: dict, floor: float, metric: str
) -> None:
    vectors, queries = data
    engine = make_engine(tmp_path, metric, vectors)
    try:
        engine.create_index("r", define_index("r_idx", "e", DIM, kind, metric, params))
        settings = SearchSettings(nprobe=16)
        found = expected = 0
        for query in queries:
            radius = radius_of(vectors, query, metric)
            ids = set(in_range(engine, query, radius, metric, settings=settings).tolist())
            exact = truth(vectors, query, radius, metric)
            assert ids <= exact  # never a row outside the range
            found, expected = found + len(ids & exact), expected + len(exact)
        assert found / expected >= floor
    finally:
        engine.close()


def test_deleted_rows_and_filters_are_respected(engine: Engine, data: tuple) -> None:
    vectors, queries = data
    engine.create_index("r", define_index("r_idx", "e", DIM, "ivf_flat", "l2", {"nlist": 32}))
    query = queries[0]
    radius = radius_of(vectors, query, "l2")
    everything = in_range(engine, query, radius, settings=SearchSettings(nprobe=32))
    assert set(everything.tolist()) == truth(vectors, query, radius, "l2")
    engine.delete("r", everything[:10].tolist())
    after = in_range(engine, query, radius, settings=SearchSettings(nprobe=32))
    assert set(after.tolist()) == set(everything[10:].tolist())
    even = engine.positions_of("r", np.arange(0, ROWS, 2))
    filtered = in_range(engine, query, radius, candidates=even, settings=SearchSettings(nprobe=32))
    assert set(filtered.tolist()) == {i for i in everything[10:].tolist() if i % 2 == 0}


def test_bound_solves_similarity_forms() -> None:
    # 1 - (e <=> q) > 0.8 is e <=> q < 0.2; -(e <#> q) >= 0.5 is e <#> q <= -0.5.
    cosine = distance_bound((("rsub", 1.0),), ">", 0.8)
    assert cosine.radius == pytest.approx(0.2)
    assert cosine.keep(np.array([0.1, 0.2, 0.3, np.nan])).tolist() == [True, False, False, True]
    inner = distance_bound((("neg", 0.0),), ">=", 0.5)
    assert inner.radius == -0.5
    assert inner.keep(np.array([-0.6, -0.5, -0.4])).tolist() == [True, True, False]
    l2 = distance_bound((("mul", 2.0), ("add", 1.0)), "<", 3.0)
    assert l2.radius == 1.0
    assert l2.keep(np.array([0.5, 1.0, np.nan])).tolist() == [True, False, False]
