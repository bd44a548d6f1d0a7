"""Raw in-process Faiss, built and searched as the server does: the baseline of `index_types`.

The same factory string (from sqlvec's own index definition), the same build settings
(`sqlvec.engine.vector_index.configure_build`: k-means seed, no polysemous training for IVF_PQ,
HNSW's efConstruction and pruned connections kept, NSG's NN-descent graph), the same layout
(HNSW graphs breadth first, `sqlvec.engine.graph_order`), the same search
parameters, one query at a time. What the server adds on top, re-ranking lossy
codes by exact distance, is measured separately as `faiss_in_process_refine`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from sqlvec.engine.faiss_setup import faiss
from sqlvec.engine.graph_order import lay_out_breadth_first
from sqlvec.engine.index_types import IndexDef
from sqlvec.engine.vector_index import configure_build

Search = Callable[[np.ndarray], list[int]]


def build(definition: IndexDef, data: np.ndarray, layout: bool = True) -> tuple[faiss.Index, float]:
    """Train and fill the index over `data` (labels are row numbers); seconds taken. HNSW
    graphs are laid out breadth first as the server's are, unless `layout` is False (the
    `hnsw_layout` benchmark's insertion-order baseline)."""
    started = time.perf_counter()
    index = faiss.index_factory(data.shape[1], definition.factory(data.shape[1]), faiss.METRIC_L2)
    configure_build(index, definition)
    if not index.is_trained:
        index.train(data)
    if definition.type == "hnsw":
        index = faiss.IndexIDMap2(index)
        index.add_with_ids(data, np.arange(len(data), dtype=np.int64))
        if layout:
            lay_out_breadth_first(index)
    else:
        index.add(data)
    return index, time.perf_counter() - started


def serialized_size(index: faiss.Index) -> int:
    return len(faiss.serialize_index(index))


def searcher(index: faiss.Index, setting: str | None, value: int | None, fetch: int) -> Search:
    """Top `fetch` labels of one query, at the given search setting."""
    params = _parameters(index, setting, value, fetch)

    def one(query: np.ndarray) -> list[int]:
        return index.search(query.reshape(1, -1), fetch, params=params)[1][0].tolist()

    return one


def refined(search: Search, data: np.ndarray, k: int) -> Search:
    """Re-rank a search's candidates by exact L2 distance, as the server does for lossy codes."""

    def one(query: np.ndarray) -> list[int]:
        candidates = np.array([c for c in search(query) if c >= 0], dtype=np.int64)
        distances = ((data[candidates] - query) ** 2).sum(axis=1)
        return candidates[np.argsort(distances, kind="stable")[:k]].tolist()

    return one


def _parameters(
    index: faiss.Index, setting: str | None, value: int | None, fetch: int
) -> faiss.SearchParameters | None:
    if setting is None or value is None:
        return None
    if setting == "nprobe":
        params = faiss.SearchParametersIVF()
        params.nprobe = min(value, int(faiss.try_extract_index_ivf(index).nlist))
        return params
    if setting == "ef_search":
        params = faiss.SearchParametersHNSW()
        params.efSearch = max(value, fetch)
        return params
    if setting == "search_length":
        index.nsg.search_L = max(value, fetch)  # NSG has no per-call parameters
        return None
    raise ValueError(f"unknown search setting {setting}")
