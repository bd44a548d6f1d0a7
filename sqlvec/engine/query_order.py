"""An order for a batch's queries that keeps neighbours together.

A graph or list index answers each query of a batch on its own, and most of that time goes to
memory: the vectors and links of the region a query walks. Queries searched one after another
in the same region find those still in the cache. So a batch (a LATERAL statement's queries)
is searched grouped by the nearest of a few pivots drawn from the batch itself, and the answers
are put back in the batch's order. Measured on 1000 clustered queries over 100k rows, Faiss
HNSW (ef 40/64) and IVF_FLAT (nprobe 16), two threads: 25-30 % less time at 128 and 384
dimensions, for ~0.4-0.9 ms of ordering (benchmarks/README.md, `vs_pgvector` 0.3.5). Each
query's answer does not depend on the others, so the order changes only the time.
"""

from __future__ import annotations

import numpy as np

from sqlvec.engine.faiss_setup import faiss

MIN_QUERIES = 64  # fewer: little to share, and the ordering's own cost shows
MAX_PIVOTS = 64
QUERIES_PER_PIVOT = 8


def locality_order(queries: np.ndarray) -> np.ndarray | None:
    """A permutation of `queries` (float rows) grouping each with the others nearest the
    same pivot, or None for a batch too small to gain from it."""
    count = len(queries)
    if count < MIN_QUERIES:
        return None
    picks = np.linspace(0, count - 1, min(MAX_PIVOTS, count // QUERIES_PER_PIVOT))
    pivots = np.ascontiguousarray(queries[picks.astype(np.int64)])
    # Nearest by L2 whatever the index's metric: this is about where the queries are. Faiss'
    # product runs on this thread alone (OpenMP at one thread, engine/faiss_setup.py), where
    # numpy's OpenBLAS would wake threads that stay spinning into the search after it.
    _, nearest = faiss.knn(np.ascontiguousarray(queries), pivots, 1)
    return np.argsort(nearest[:, 0], kind="stable")


def in_batch_order(
    order: np.ndarray, scores: np.ndarray, ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The answers of queries searched in `order`, put back in the batch's own order."""
    restored_scores = np.empty_like(scores)
    restored_ids = np.empty_like(ids)
    restored_scores[order] = scores
    restored_ids[order] = ids
    return restored_scores, restored_ids
