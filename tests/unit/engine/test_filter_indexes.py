"""A filter that comes back gets its own index per segment (engine/filter_indexes.py): after
BUILD_AFTER_USES searches, built on the builder thread, used from then on, and gone with the
first write. Results stay within the filter, k of them, at recall >= 0.95."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sqlvec.engine import filter_indexes, segment_search
from sqlvec.engine.catalog import CollectionSpec, ColumnSpec
from sqlvec.engine.collection import Segment
from sqlvec.engine.derived_cache import frozen
from sqlvec.engine.engine import Engine
from sqlvec.engine.index_types import define_index
from sqlvec.engine.segment_search import SearchRequest
from sqlvec.engine.vector_index import SearchSettings
from sqlvec.types import INT8, VECTOR

DIM, ROWS, K = 16, 20_000, 10
OWN = "through the filter's own indexes"


@pytest.fixture(params=[1, 2], ids=["one segment", "two segments"])
def engine(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """One sealed segment (the filter index answers alone) or two (its answers are merged)."""
    engine = Engine(tmp_path)
    columns = (
        ColumnSpec("id", INT8, primary_key=True, not_null=True),
        ColumnSpec("e", VECTOR, dim=DIM, not_null=True),
    )
    segment_rows = ROWS // request.param
    engine.create_collection(CollectionSpec("f", columns, "l2", {"segment_rows": segment_rows}))
    vectors = np.random.default_rng(1).standard_normal((ROWS, DIM)).astype(np.float32)
    for start in range(0, ROWS, 5000):
        rows = [[i, vectors[i]] for i in range(start, start + 5000)]
        engine.insert("f", ["id", "e"], rows)
    engine.create_index("f", define_index("f_e_idx", "e", DIM, "hnsw", "l2", {}))
    engine.wait_for_builds()
    segments = engine.collection("f").partitions["_default"].sealed
    assert len(segments) == request.param
    yield engine
    engine.close()


def _allowed(engine: Engine) -> tuple[np.ndarray, np.ndarray]:
    """20 % of the ids, and their positions as the row filter's cache hands them out (the
    same read-only array each time)."""
    ids = np.sort(np.random.default_rng(2).choice(ROWS, ROWS // 5, replace=False))
    return ids, frozen(engine.positions_of("f", ids.tolist()))


def _search(engine: Engine, query: np.ndarray, candidates: np.ndarray) -> tuple[list[int], str]:
    settings = SearchSettings(ef_search=40)
    request = SearchRequest("e", query, K, "l2", candidates=candidates, settings=settings)
    result = engine.search("f", request)
    # Whichever index answered, the distances are the rows' own.
    vectors = engine.collection("f").rows.snapshot().vectors["e"]
    expected = np.linalg.norm(vectors[result.positions] - query, axis=1)
    np.testing.assert_allclose(result.distances, expected, rtol=1e-4, atol=1e-5)
    return engine.take("f", result.positions, "id"), result.strategy


def test_a_repeated_filter_gets_its_own_indexes(engine: Engine) -> None:
    ids, candidates = _allowed(engine)
    queries = np.random.default_rng(3).standard_normal((60, DIM)).astype(np.float32)
    for query in queries[: filter_indexes.BUILD_AFTER_USES]:
        _, strategy = _search(engine, query, candidates)
        assert strategy.startswith("ann with id selector") and OWN not in strategy
    engine.wait_for_builds()
    vectors = engine.collection("f").rows.snapshot().vectors["e"]
    hits = 0
    for query in queries[filter_indexes.BUILD_AFTER_USES :]:
        found, strategy = _search(engine, query, candidates)
        assert OWN in strategy
        assert len(found) == K and set(found) <= set(ids.tolist())
        distances = np.linalg.norm(vectors[candidates] - query, axis=1)
        hits += len(set(found) & set(ids[np.argsort(distances)[:K]].tolist()))
    assert hits / (K * (len(queries) - filter_indexes.BUILD_AFTER_USES)) >= 0.95


def test_a_write_drops_them(engine: Engine) -> None:
    _, candidates = _allowed(engine)
    query = np.zeros(DIM, dtype=np.float32)
    for _ in range(filter_indexes.BUILD_AFTER_USES):
        _search(engine, query, candidates)
    engine.wait_for_builds()
    assert OWN in _search(engine, query, candidates)[1]
    engine.insert("f", ["id", "e"], [[ROWS, np.ones(DIM, dtype=np.float32)]])
    assert OWN not in _search(engine, query, candidates)[1]


def test_a_filter_seen_once_builds_nothing(engine: Engine) -> None:
    _, candidates = _allowed(engine)
    query = np.zeros(DIM, dtype=np.float32)
    for _ in range(filter_indexes.BUILD_AFTER_USES - 1):
        _search(engine, query, candidates)
    engine.wait_for_builds()
    assert OWN not in _search(engine, query, candidates)[1]


def test_the_budget_drops_the_oldest_and_does_not_rebuild_it() -> None:
    store = filter_indexes.FilterIndexes()
    vectors = np.random.default_rng(4).standard_normal((4000, DIM)).astype(np.float32)
    definition = define_index("i", "e", DIM, "hnsw", "l2", {"m": 8, "ef_construction": 16})
    segment = Segment(1, "_default", np.arange(4000), np.arange(4000))
    jobs: list[Callable[[], None]] = []
    one_index = 2000 * (DIM * 4 + 8 + 2 * 8 * 4)
    filters = [frozen(np.arange(i * 2000, (i + 1) * 2000)) for i in range(2)]

    def use(candidates: np.ndarray) -> None:
        positions = np.array(candidates)
        build = filter_indexes.FilterBuild(
            candidates, definition, vectors, positions, positions, one_index, jobs.append
        )
        store.count_use(1, segment, "e", candidates, lambda: build)

    for candidates in filters:  # each comes back often enough: built, the second evicts the first
        for _ in range(filter_indexes.BUILD_AFTER_USES):
            use(candidates)
        while jobs:
            jobs.pop()()
    assert store.find(1, segment, "e", filters[0]) is None
    assert store.find(1, segment, "e", filters[1]) is not None
    for _ in range(filter_indexes.BUILD_AFTER_USES):
        use(filters[0])
    assert jobs == []  # dropped for room: not built again in this version


def test_a_filter_duckdb_evaluated_builds_nothing(engine: Engine) -> None:
    """A filter whose matching rows come new each time (DuckDB's ids, a writable array) is
    never counted: nothing of it comes back to reuse."""
    ids, _ = _allowed(engine)
    query = np.zeros(DIM, dtype=np.float32)
    for _ in range(2 * filter_indexes.BUILD_AFTER_USES):
        fresh = engine.positions_of("f", ids.tolist())
        assert fresh.flags.writeable
        _search(engine, query, fresh)
    engine.wait_for_builds()
    assert OWN not in _search(engine, query, engine.positions_of("f", ids.tolist()))[1]
    store = engine.collection("f").filter_indexes
    assert len(store._entries) == 0 and len(store._uses) == 0  # not even counted


def test_one_segment_is_answered_by_one_index_alone(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one segment the segment's index with the selector, then the filter's own index,
    gives the result as it is (no merging of parts, no distances computed again); with two
    the parts are merged as before."""
    merged: list[int] = []
    merge = segment_search._merged

    def counted(*args: Any, **kwargs: Any) -> Any:
        merged.append(1)
        return merge(*args, **kwargs)

    monkeypatch.setattr(segment_search, "_merged", counted)
    ids, candidates = _allowed(engine)
    query = np.zeros(DIM, dtype=np.float32)
    for _ in range(filter_indexes.BUILD_AFTER_USES):
        found, strategy = _search(engine, query, candidates)
        assert OWN not in strategy and len(found) == K and set(found) <= set(ids.tolist())
    engine.wait_for_builds()
    found, strategy = _search(engine, query, candidates)
    assert OWN in strategy and len(found) == K and set(found) <= set(ids.tolist())
    segments = len(engine.collection("f").partitions["_default"].sealed)
    uses = filter_indexes.BUILD_AFTER_USES + 1
    assert len(merged) == (0 if segments == 1 else uses)
