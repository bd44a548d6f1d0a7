"""Exact k-nearest-neighbour search over a matrix of vectors, with pgvector's distances.

Distances follow pgvector: `<->` Euclidean, `<#>` negative inner product, `<=>` cosine distance
(1 - cosine similarity, NaN when a vector has zero length), `<+>` L1 (taxicab); for bit
columns (rows of 0 and 1) `<~>` Hamming and `<%>` Jaccard distance.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sqlvec.engine.faiss_setup import faiss
from sqlvec.engine.rows import normalize_rows

# The orderings Faiss' brute-force kernel computes directly (smallest first for these metrics).
# Over rows of 0 and 1 the squared L2 distance is the Hamming distance.
_FAISS_METRICS = {
    "l2": faiss.METRIC_L2,
    "ip": faiss.METRIC_INNER_PRODUCT,
    "hamming": faiss.METRIC_L2,
}
# Metrics ranked by numpy and a partial sort: no Faiss kernel computes them.
_SORTED_METRICS = ("l1", "jaccard")


def pairwise(vectors: np.ndarray, query: np.ndarray, metric: str) -> np.ndarray:
    """Distances from `query` to every row of `vectors`, as float64."""
    if metric == "l2":
        return np.sqrt(((vectors - query) ** 2).sum(axis=1, dtype=np.float64))
    if metric == "ip":
        return -(vectors @ query).astype(np.float64)
    if metric in ("l1", "hamming"):
        return np.abs(vectors - query).sum(axis=1, dtype=np.float64)
    if metric == "jaccard":
        return _jaccard(vectors, query)
    if metric == "cosine":
        norms = np.linalg.norm(vectors, axis=1) * np.linalg.norm(query)
        with np.errstate(invalid="ignore", divide="ignore"):
            similarity = (vectors @ query).astype(np.float64) / norms
        return 1.0 - np.clip(similarity, -1.0, 1.0)
    raise ValueError(f"unknown metric {metric}")


def pairwise_many(
    vectors: np.ndarray, positions: np.ndarray, queries: np.ndarray, metric: str
) -> np.ndarray:
    """Distances from each query to the rows at its line of `positions` (a matrix), float64."""
    if len(positions) == 0 or positions.shape[1] == 0:
        return np.zeros(positions.shape, dtype=np.float64)
    gathered = vectors[positions]  # (queries, candidates, dim)
    if metric == "l2":
        difference = gathered - queries[:, None, :]
        return np.sqrt(np.einsum("qcd,qcd->qc", difference, difference, dtype=np.float64))
    if metric == "ip":
        return -np.einsum("qcd,qd->qc", gathered, queries).astype(np.float64)
    return np.stack([pairwise(gathered[i], q, metric) for i, q in enumerate(queries)])


def _jaccard(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    """pgvector's jaccard_distance: 1 - |a AND b| / |a OR b|, and 1 when a AND b is empty."""
    both = (vectors @ query).astype(np.float64)
    union = vectors.sum(axis=1, dtype=np.float64) + float(query.sum()) - both
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(both == 0, 1.0, 1.0 - both / union)


def knn(
    vectors: np.ndarray,
    query: np.ndarray,
    k: int,
    metric: str,
    *,
    descending: bool = False,
    normalized: Callable[[], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The k rows nearest `query` (farthest when descending): (row indexes, distances).

    `normalized` returns unit-length copies of `vectors` (kept by the caller across queries) for
    cosine through Faiss' inner-product kernel.
    """
    k = min(k, len(vectors))
    if k <= 0:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    if descending or metric in _SORTED_METRICS or (metric == "cosine" and not np.any(query)):
        return _by_full_sort(vectors, query, k, metric, descending)
    queries = query.reshape(1, -1)
    if metric == "cosine":
        base = normalized() if normalized is not None else normalize_rows(vectors)
        scores, labels = faiss.knn(normalize_rows(queries), base, k, faiss.METRIC_INNER_PRODUCT)
        if not np.any(base[labels[0]], axis=1).all():
            # A zero vector scored 0 (distance 1) but its cosine distance is NaN, sorted last.
            return _by_full_sort(vectors, query, k, metric, descending)
        return labels[0], 1.0 - np.clip(scores[0].astype(np.float64), -1.0, 1.0)
    scores, labels = faiss.knn(queries, vectors, k, _FAISS_METRICS[metric])
    return labels[0], distances_from_scores(scores[0], metric)


def distances_from_scores(scores: np.ndarray, metric: str) -> np.ndarray:
    """Faiss' scores (squared L2, inner product, Hamming) as pgvector's distances."""
    values = scores.astype(np.float64)
    if metric == "l2":
        return np.sqrt(np.maximum(values, 0.0))
    if metric == "hamming":
        return np.rint(values)  # whole bits; the kernel's expansion may round off by a little
    return -values


def knn_batch(
    vectors: np.ndarray,
    queries: np.ndarray,
    k: int,
    metric: str,
    *,
    normalized: Callable[[], np.ndarray] | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """`knn` for many queries at once: one Faiss call for L2, inner product and cosine."""
    k = min(k, len(vectors))
    if k <= 0 or metric in _SORTED_METRICS or len(queries) == 0:
        return [knn(vectors, q, k, metric, normalized=normalized) for q in queries]
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    if metric == "cosine":
        base = normalized() if normalized is not None else normalize_rows(vectors)
        scores, labels = faiss.knn(normalize_rows(queries), base, k, faiss.METRIC_INNER_PRODUCT)
        distances = 1.0 - np.clip(scores.astype(np.float64), -1.0, 1.0)
        results = [(labels[i], distances[i]) for i in range(len(queries))]
        # Rows with a zero vector (query or stored) need NaN distances: redo those singly.
        return [
            knn(vectors, queries[i], k, metric, normalized=normalized)
            if not np.any(queries[i]) or not np.any(base[labels[i]], axis=1).all()
            else result
            for i, result in enumerate(results)
        ]
    scores, labels = faiss.knn(queries, vectors, k, _FAISS_METRICS[metric])
    distances = distances_from_scores(scores, metric)
    return [(labels[i], distances[i]) for i in range(len(queries))]


def _by_full_sort(
    vectors: np.ndarray, query: np.ndarray, k: int, metric: str, descending: bool
) -> tuple[np.ndarray, np.ndarray]:
    distances = pairwise(vectors, query, metric)
    # Postgres sorts NaN above every number: last in ascending order, first in descending.
    ordered = -distances if descending else distances
    keys = np.where(np.isnan(distances), -np.inf if descending else np.inf, ordered)
    part = np.argpartition(keys, k - 1)[:k] if k < len(keys) else np.arange(len(keys))
    order = part[np.lexsort((part, keys[part]))]
    return order.astype(np.int64), distances[order]
