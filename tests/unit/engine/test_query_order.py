"""A batch's queries are searched in locality order and answered in their own order."""

from __future__ import annotations

import numpy as np
import pytest

from sqlvec.engine.index_types import define_index
from sqlvec.engine.query_order import (
    MAX_PIVOTS,
    MIN_QUERIES,
    QUERIES_PER_PIVOT,
    in_batch_order,
    locality_order,
)
from sqlvec.engine.vector_index import IdSet, SearchSettings, build

DIM = 16


def _clustered(count: int, centres: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points around `centres`, drawn in random order: (points, centre of each)."""
    rng = np.random.default_rng(seed)
    which = rng.integers(0, len(centres), count)
    points = centres[which] + 0.05 * rng.standard_normal((count, DIM))
    return points.astype(np.float32), which


def test_small_batches_keep_their_order() -> None:
    queries = np.random.default_rng(1).standard_normal((MIN_QUERIES - 1, DIM)).astype(np.float32)
    assert locality_order(queries) is None


def test_queries_near_one_another_end_up_together() -> None:
    centres = 10 * np.random.default_rng(2).standard_normal((4, DIM))
    queries, which = _clustered(400, centres, seed=3)
    order = locality_order(queries)
    assert order is not None
    assert sorted(order.tolist()) == list(range(400))  # a permutation: every query once
    # Given order: a change of centre at almost every step. Grouped by pivot, each group of
    # one centre: a change only where one pivot's group ends (~8 queries each).
    pivots = min(MAX_PIVOTS, len(queries) // QUERIES_PER_PIVOT)
    assert np.count_nonzero(np.diff(which)) > 250
    assert np.count_nonzero(np.diff(which[order])) < pivots


def test_answers_go_back_to_the_batch_order() -> None:
    order = np.array([2, 0, 3, 1])
    scores = np.array([[2.0], [0.0], [3.0], [1.0]], np.float32)  # searched as 2, 0, 3, 1
    ids = np.array([[20], [0], [30], [10]], np.int64)
    restored_scores, restored_ids = in_batch_order(order, scores, ids)
    assert restored_scores.ravel().tolist() == [0.0, 1.0, 2.0, 3.0]
    assert restored_ids.ravel().tolist() == [0, 10, 20, 30]


@pytest.mark.parametrize(
    ("method", "metric", "options"),
    [
        ("hnsw", "l2", {"m": 16}),
        ("hnsw", "cosine", {"m": 16}),
        ("ivf_flat", "ip", {"nlist": 16}),
        ("ivf_sq8", "l2", {"nlist": 16}),
    ],
)
def test_a_batch_answers_each_query_as_its_own_search(
    method: str, metric: str, options: dict[str, int]
) -> None:
    centres = 3 * np.random.default_rng(4).standard_normal((20, DIM))
    vectors, _ = _clustered(3000, centres, seed=5)
    queries, _ = _clustered(300, centres, seed=6)  # in random order: reordered in the batch
    assert locality_order(queries) is not None
    definition = define_index("i", "e", DIM, method, metric, dict(options))
    index = build(definition, vectors, np.arange(3000, dtype=np.int64) + 100)
    settings = SearchSettings(ef_search=32, nprobe=4)
    allowed = IdSet(np.arange(100, 3100, 3, dtype=np.int64))
    for included in (None, allowed):
        scores, ids = index.search_many(queries, 10, settings, None, included)
        for i, query in enumerate(queries):
            one_scores, one_ids = index.search(query[None, :], 10, settings, None, included)
            assert ids[i].tolist() == one_ids.tolist()
            np.testing.assert_allclose(scores[i], one_scores, rtol=1e-5)
        if included is not None:
            assert np.isin(ids, included.ids).all()
