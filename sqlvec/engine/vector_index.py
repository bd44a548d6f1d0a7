"""Faiss indexes of sealed segments: build, search with ID selectors, serialize.

Faiss labels are the rows' int64 ids, so an index file stays valid across restarts and
compactions, whatever position a row has in memory.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from sqlvec.engine.faiss_setup import faiss
from sqlvec.engine.index_types import KMEANS_SEED, IndexDef
from sqlvec.engine.rows import normalize_rows

DEFAULT_NPROBE = 16
DEFAULT_EF_SEARCH = 64
DEFAULT_SEARCH_LENGTH = 40


@dataclass(frozen=True)
class SearchSettings:
    """A session's search parameters; None means the default."""

    nprobe: int | None = None
    ef_search: int | None = None
    search_length: int | None = None
    # Not a search parameter: EXPLAIN ANALYZE also measures recall against exact search.
    explain_recall: bool = False


class BuiltIndex:
    def __init__(self, definition: IndexDef, index: faiss.Index) -> None:
        self.definition = definition
        self.index = index
        # NSG keeps its search length on the index object, not in per-call parameters.
        self._nsg_lock = threading.Lock()

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    def search(
        self,
        query: np.ndarray,
        k: int,
        settings: SearchSettings,
        excluded: np.ndarray | None,
        included: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores in the index's metric, ids) of up to k rows: only `included` ids when
        given, never `excluded` ones."""
        queries = query.reshape(1, -1).astype(np.float32)
        if self.definition.metric == "cosine":
            queries = normalize_rows(queries)
        k = min(k, self.ntotal)
        if k <= 0:
            return np.empty(0, np.float32), np.empty(0, np.int64)
        kind = self.definition.type
        if kind == "nsg":
            return self._search_nsg(queries, k, settings, excluded)
        selector = _including(included) if included is not None else _excluding(excluded)
        params = _search_parameters(self.index, settings, k, selector)
        scores, labels = self.index.search(queries, k, params=params)
        found = labels[0] >= 0
        return scores[0][found], labels[0][found]

    def search_many(
        self, queries: np.ndarray, k: int, settings: SearchSettings, excluded: np.ndarray | None
    ) -> np.ndarray:
        """Ids (-1 where fewer) of the k best rows for each query, in one Faiss call."""
        if self.definition.type == "nsg":
            rows = [self.search(q, k, settings, excluded)[1] for q in queries]
            return np.array([np.pad(r, (0, k - len(r)), constant_values=-1) for r in rows])
        data = np.ascontiguousarray(queries, dtype=np.float32)
        if self.definition.metric == "cosine":
            data = normalize_rows(data)
        k = min(k, self.ntotal)
        params = _search_parameters(self.index, settings, k, _excluding(excluded))
        return self.index.search(data, k, params=params)[1]

    def range_search(
        self,
        query: np.ndarray,
        radius: float,
        settings: SearchSettings,
        excluded: np.ndarray | None,
        included: np.ndarray | None = None,
    ) -> np.ndarray:
        """Ids of the rows Faiss' range search keeps (squared L2 below `radius`, inner product
        above it): only `included` ids when given, never `excluded` ones."""
        queries = query.reshape(1, -1).astype(np.float32)
        if self.definition.metric == "cosine":
            queries = normalize_rows(queries)
        selector = _including(included) if included is not None else _excluding(excluded)
        params = _search_parameters(self.index, settings, 1, selector)
        _, _, labels = self.index.range_search(queries, radius, params=params)
        return labels[labels >= 0]

    def _search_nsg(
        self, queries: np.ndarray, k: int, settings: SearchSettings, excluded: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        # Faiss NSG has no ID selector: fetch enough extra rows to drop the excluded ones.
        extra = 0 if excluded is None else len(excluded)
        fetch = min(k + extra, self.ntotal)
        graph = faiss.downcast_index(self.index.index)
        with self._nsg_lock:
            graph.nsg.search_L = max(settings.search_length or DEFAULT_SEARCH_LENGTH, fetch)
            scores, labels = self.index.search(queries, fetch)
        keep = labels[0] >= 0
        if excluded is not None and len(excluded):
            keep &= ~np.isin(labels[0], excluded)
        return scores[0][keep][:k], labels[0][keep][:k]


def build(definition: IndexDef, vectors: np.ndarray, ids: np.ndarray) -> BuiltIndex:
    """Train (k-means with a fixed seed) and fill an index over a segment's rows."""
    dim = vectors.shape[1]
    data = normalize_rows(vectors) if definition.metric == "cosine" else vectors
    data = np.ascontiguousarray(data, dtype=np.float32)
    index = faiss.index_factory(dim, definition.factory(dim), definition.faiss_metric)
    _configure_build(index, definition)
    if faiss.try_extract_index_ivf(index) is None:
        index = faiss.IndexIDMap2(index)
    if not index.is_trained:
        index.train(data)
    index.add_with_ids(data, np.ascontiguousarray(ids, dtype=np.int64))
    return BuiltIndex(definition, index)


def serialize(built: BuiltIndex) -> bytes:
    return bytes(faiss.serialize_index(built.index))


def deserialize(definition: IndexDef, data: bytes | memoryview) -> BuiltIndex:
    index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
    return BuiltIndex(definition, index)


def nlist_of(built: BuiltIndex) -> int | None:
    ivf = faiss.try_extract_index_ivf(built.index)
    return None if ivf is None else int(ivf.nlist)


def _configure_build(index: faiss.Index, definition: IndexDef) -> None:
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        ivf.cp.seed = KMEANS_SEED
    if definition.type == "ivf_pq":
        # Polysemous codes (Faiss' default) add ~9 s of training per segment and are not
        # used by IVF_PQ's searches here.
        faiss.downcast_index(ivf).do_polysemous_training = False
    if definition.type == "hnsw":
        faiss.downcast_index(index).hnsw.efConstruction = definition.params["ef_construction"]
    if definition.type == "nsg":
        graph = faiss.downcast_index(index)
        graph.GK = definition.params["knng"]
        graph.build_type = 1  # NN-descent: the exact k-NN graph is quadratic in the rows
        graph.nsg.C = definition.params["candidate_pool_size"]
        graph.nsg.L = definition.params["search_length"]


def _excluding(excluded: np.ndarray | None) -> faiss.IDSelector | None:
    if excluded is None or len(excluded) == 0:
        return None
    batch = faiss.IDSelectorBatch(np.ascontiguousarray(excluded, dtype=np.int64))
    selector = faiss.IDSelectorNot(batch)
    selector.referenced = batch  # keep the inner selector alive as long as the outer one
    return selector


def _including(included: np.ndarray) -> faiss.IDSelector:
    return faiss.IDSelectorBatch(np.ascontiguousarray(included, dtype=np.int64))


def _search_parameters(
    index: faiss.Index, settings: SearchSettings, k: int, selector: faiss.IDSelector | None
) -> faiss.SearchParameters | None:
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap2) else index
    if faiss.try_extract_index_ivf(index) is not None:
        params = faiss.SearchParametersIVF()
        ivf = faiss.try_extract_index_ivf(index)
        params.nprobe = min(settings.nprobe or DEFAULT_NPROBE, int(ivf.nlist))
    elif isinstance(inner, faiss.IndexHNSW):
        params = faiss.SearchParametersHNSW()
        params.efSearch = max(settings.ef_search or DEFAULT_EF_SEARCH, k)
    elif selector is not None:
        params = faiss.SearchParameters()
    else:
        return None
    if selector is not None:
        params.sel = selector
    return params
