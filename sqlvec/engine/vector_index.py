"""Faiss indexes of sealed segments: build, search with ID selectors, serialize.

Faiss labels are the rows' int64 ids, so an index file stays valid across restarts and
compactions, whatever position a row has in memory.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from sqlvec.engine.faiss_setup import batch_threads, faiss
from sqlvec.engine.graph_order import lay_out_breadth_first
from sqlvec.engine.index_types import KMEANS_SEED, IndexDef
from sqlvec.engine.query_order import in_batch_order, locality_order
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
        # Found once: downcasting and IVF extraction cost microseconds on every search.
        self._family = _family(index)
        self.nlist = _nlist(index, definition)
        # Parameters of unfiltered searches, by (ef_search, nprobe, k): read-only once made.
        self._plain_params: dict[tuple[int, int, int], faiss.SearchParameters | None] = {}
        # A built index never changes (rows are only ever added before it is wrapped here):
        # read once, not through SWIG on every search.
        self.ntotal = int(index.ntotal)
        self._dim = int(index.d)

    def _parameters(
        self, settings: SearchSettings, k: int, ids: IdSet | None
    ) -> faiss.SearchParameters | None:
        if ids is not None:
            return ids.parameters(self._family, self.nlist, settings, k)
        key = (settings.ef_search or 0, settings.nprobe or 0, k)
        params = self._plain_params.get(key)
        if params is None and key not in self._plain_params:
            params = _search_parameters(self._family, self.nlist, settings, k, None)
            if len(self._plain_params) < 256:
                self._plain_params[key] = params
        return params

    def scores_are_distances(self, metric: str) -> bool:
        """Whether this index's scores are the exact distances for `metric` (float32, as the
        exact search computes them): uncompressed vectors (`flat`, `ivf_flat`, `hnsw`, `nsg`)
        under L2 or inner product. Lossy codes, cosine (a zero query vector) and bits are
        re-ranked from the vectors instead."""
        definition = self.definition
        return (
            metric in ("l2", "ip")
            and metric == definition.metric
            and not definition.binary
            and definition.type in _UNCOMPRESSED
        )

    def search(
        self,
        query: np.ndarray,
        k: int,
        settings: SearchSettings,
        excluded: np.ndarray | None,
        included: IdSet | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores in the index's metric, ids) of up to k rows: only `included` ids when
        given, never `excluded` ones."""
        queries = self._prepared(query.reshape(1, -1))
        k = min(k, self.ntotal)
        if k <= 0:
            return np.empty(0, np.float32), np.empty(0, np.int64)
        kind = self.definition.type
        if kind == "nsg" or (self.definition.binary and kind == "ivf_flat"):
            return self._search_filtering(queries, k, settings, excluded, included)
        params = self._parameters(settings, k, included or _excluding(excluded))
        scores, labels = self._search(queries, k, params)
        if labels[0, -1] >= 0:  # Faiss pads a short answer with -1 at the end only
            return scores[0], labels[0]
        found = labels[0] >= 0
        return scores[0][found], labels[0][found]

    def takes_parameters(self) -> bool:
        """Whether `search` is one Faiss call with search parameters (`search_with` may
        stand for it): every kind but NSG and binary IVF, which filter by over-fetching."""
        kind = self.definition.type
        return not (kind == "nsg" or (self.definition.binary and kind == "ivf_flat"))

    def plain_parameters(
        self, settings: SearchSettings, k: int, included: IdSet | None = None
    ) -> faiss.SearchParameters | None:
        """The parameters `search` passes Faiss for these settings and k (no deleted ids to
        exclude; `included`: the ids a selector allows), for `search_with`."""
        return self._parameters(settings, min(k, self.ntotal), included)

    def search_with(
        self, query: np.ndarray, k: int, params: faiss.SearchParameters | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """`search` of a float32 query of the index's width (not cosine or bits, an index that
        `takes_parameters`) with parameters made by `plain_parameters`: what a prepared search
        runs again and again (engine/compiled_topk.py)."""
        k = min(k, self.ntotal)
        scores, labels = self._search(query.reshape(1, -1), k, params)
        if labels[0, -1] >= 0:
            return scores[0], labels[0]
        found = labels[0] >= 0
        return scores[0][found], labels[0][found]

    def search_many(
        self,
        queries: np.ndarray,
        k: int,
        settings: SearchSettings,
        excluded: np.ndarray | None,
        included: IdSet | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of the k best rows for each query (-1 ids where fewer), in one Faiss
        call: only `included` ids when given (one selector for every query), never
        `excluded` ones."""
        if self.definition.type == "nsg" or (
            self.definition.binary and self.definition.type == "ivf_flat"
        ):
            found = [self.search(q, k, settings, excluded, included) for q in queries]
            return (
                np.array([np.pad(s, (0, k - len(s))) for s, _ in found]),
                np.array([np.pad(r, (0, k - len(r)), constant_values=-1) for _, r in found]),
            )
        data = self._prepared(queries)
        k = min(k, self.ntotal)
        params = self._parameters(settings, k, included or _excluding(excluded))
        # A graph or lists walk memory query by query: neighbours searched in a row share the
        # cache (query_order). A flat index's batch is one matrix product: nothing to gain;
        # binary queries are packed bits, not points to group.
        walked = self._family in _WALKED and not self.definition.binary
        order = locality_order(data) if walked else None
        if order is not None:
            data = data[order]
        with batch_threads(len(data)):
            scores, ids = self.index.search(data, k, params=params)
        if order is not None:
            return in_batch_order(order, scores, ids)
        return scores, ids

    def range_search(
        self,
        query: np.ndarray,
        radius: float,
        settings: SearchSettings,
        excluded: np.ndarray | None,
        included: IdSet | None = None,
    ) -> np.ndarray:
        """Ids of the rows Faiss' range search keeps (squared L2 below `radius`, inner product
        above it): only `included` ids when given, never `excluded` ones."""
        queries = query.reshape(1, -1).astype(np.float32)
        if self.definition.metric == "cosine":
            queries = normalize_rows(queries)
        params = self._parameters(settings, 1, included or _excluding(excluded))
        _, _, labels = self.index.range_search(queries, radius, params=params)
        return labels[labels >= 0]

    def _search(
        self, queries: np.ndarray, k: int, params: faiss.SearchParameters | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """`index.search`, for one query without Faiss' Python wrapper around `search_c`
        (its argument checks and conversions cost a few microseconds): the query made
        C-contiguous float32 and its width checked here, as Faiss would read past it
        otherwise."""
        if self.definition.binary or len(queries) != 1:
            return self.index.search(queries, k, params=params)  # type: ignore[no-any-return]
        if queries.shape[1] != self._dim:
            raise ValueError(
                f"a query of {queries.shape[1]} dimensions for an index of {self._dim}"
            )
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        scores = np.empty((1, k), np.float32)
        labels = np.empty((1, k), np.int64)
        self.index.search_c(
            1, faiss.swig_ptr(queries), k, faiss.swig_ptr(scores), faiss.swig_ptr(labels), params
        )
        return scores, labels

    def _prepared(self, queries: np.ndarray) -> np.ndarray:
        """Queries as the index holds rows: unit length for cosine, packed bits for binary."""
        data = np.ascontiguousarray(queries, dtype=np.float32)
        if self.definition.binary:
            return pack_bits(data)
        if self.definition.metric == "cosine":
            data = normalize_rows(data)
        return data

    def _search_filtering(
        self,
        queries: np.ndarray,
        k: int,
        settings: SearchSettings,
        excluded: np.ndarray | None,
        included: IdSet | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        # Faiss NSG and binary IVF take no ID selector: fetch enough extra rows to drop the
        # excluded ones (a filtered search that comes back short is redone exactly).
        extra = 0 if excluded is None else len(excluded)
        fetch = min(k + extra if included is None else 4 * k, self.ntotal)
        if self.definition.type == "nsg":
            graph = faiss.downcast_index(self.index.index)
            with self._nsg_lock:
                graph.nsg.search_L = max(settings.search_length or DEFAULT_SEARCH_LENGTH, fetch)
                scores, labels = self.index.search(queries, fetch)
        else:
            params = faiss.SearchParametersIVF()
            params.nprobe = min(settings.nprobe or DEFAULT_NPROBE, int(self.index.nlist))
            scores, labels = self.index.search(queries, fetch, params=params)
        keep = labels[0] >= 0
        if excluded is not None and len(excluded):
            keep &= ~np.isin(labels[0], excluded)
        if included is not None:
            keep &= np.isin(labels[0], included.ids)
        return scores[0][keep][:k], labels[0][keep][:k]


def pack_bits(rows: np.ndarray) -> np.ndarray:
    """0/1 float rows as Faiss binary codes: 8 bits a byte, zero-padded to whole bytes (zeros
    change neither Hamming nor Jaccard distance)."""
    return np.packbits(rows != 0, axis=1)


def _build_binary(definition: IndexDef, vectors: np.ndarray, ids: np.ndarray) -> BuiltIndex:
    codes = pack_bits(vectors)
    index = faiss.index_binary_factory(8 * codes.shape[1], definition.factory(8 * codes.shape[1]))
    if definition.type == "ivf_flat":
        index.cp.seed = KMEANS_SEED
        index.train(codes)
    else:
        if definition.type == "hnsw":
            index.hnsw.efConstruction = definition.params["ef_construction"]
        index = faiss.IndexBinaryIDMap2(index)
    index.add_with_ids(codes, np.ascontiguousarray(ids, dtype=np.int64))
    return BuiltIndex(definition, index)


def build(definition: IndexDef, vectors: np.ndarray, ids: np.ndarray) -> BuiltIndex:
    """Train (k-means with a fixed seed) and fill an index over a segment's rows."""
    if definition.binary:
        return _build_binary(definition, vectors, ids)
    dim = vectors.shape[1]
    data = normalize_rows(vectors) if definition.metric == "cosine" else vectors
    data = np.ascontiguousarray(data, dtype=np.float32)
    index = faiss.index_factory(dim, definition.factory(dim), definition.faiss_metric)
    configure_build(index, definition)
    if faiss.try_extract_index_ivf(index) is None:
        index = faiss.IndexIDMap2(index)
    if not index.is_trained:
        index.train(data)
    index.add_with_ids(data, np.ascontiguousarray(ids, dtype=np.int64))
    if definition.type == "hnsw":
        lay_out_breadth_first(index)
    return BuiltIndex(definition, index)


def serialize(built: BuiltIndex) -> bytes:
    if built.definition.binary:
        return bytes(faiss.serialize_index_binary(built.index))
    return bytes(faiss.serialize_index(built.index))


def deserialize(definition: IndexDef, data: bytes | memoryview) -> BuiltIndex:
    codes = np.frombuffer(data, dtype=np.uint8)
    if definition.binary:
        return BuiltIndex(definition, faiss.deserialize_index_binary(codes))
    return BuiltIndex(definition, faiss.deserialize_index(codes))


def nlist_of(built: BuiltIndex) -> int | None:
    return built.nlist


def configure_build(index: faiss.Index, definition: IndexDef) -> None:
    """The build settings of an index (before training and adding): also the raw-Faiss
    baselines' (benchmarks/faiss_baseline.py), so that they measure the same index."""
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        ivf.cp.seed = KMEANS_SEED
    if definition.type == "ivf_pq":
        # Polysemous codes (Faiss' default) add ~9 s of training per segment and are not
        # used by IVF_PQ's searches here.
        faiss.downcast_index(ivf).do_polysemous_training = False
    if definition.type == "hnsw":
        graph = faiss.downcast_index(index)
        graph.hnsw.efConstruction = definition.params["ef_construction"]
        # pgvector's graph: a layer-0 node refills its 2m neighbour slots from the candidates
        # the diversity heuristic pruned (the HNSW paper's keepPrunedConnections), where Faiss
        # by default leaves them empty. 100k x 128 clustered rows, m 16, ef_construction 64:
        # recall@10 at ef_search 40 0.933 -> 0.950 for the same time per search; builds take
        # about twice as long (benchmarks/README.md, vs_pgvector).
        graph.keep_max_size_level0 = True
    if definition.type == "nsg":
        graph = faiss.downcast_index(index)
        graph.GK = definition.params["knng"]
        graph.build_type = 1  # NN-descent: the exact k-NN graph is quadratic in the rows
        graph.nsg.C = definition.params["candidate_pool_size"]
        graph.nsg.L = definition.params["search_length"]


def _excluding(excluded: np.ndarray | None) -> IdSet | None:
    """Every id but `excluded` (a segment's deleted ids), the same IdSet for the same array:
    a segment's searches exclude one array until its next delete replaces it, and building
    the selector costs ~60 ns an id (10k deleted rows: 0.6 ms a search). Kept while the
    array lives: the cache holds it weakly, and the set holds only its selector."""
    if excluded is None or len(excluded) == 0:
        return None
    key = id(excluded)
    with _EXCLUDING_LOCK:
        entry = _EXCLUDING.get(key)
        if entry is not None and entry[0]() is excluded:
            return entry[1]
        made = IdSet.excluding(excluded)
        _EXCLUDING[key] = (weakref.ref(excluded, lambda ref: _forget(key, ref)), made)
        return made


def _forget(key: int, ref: weakref.ref[np.ndarray]) -> None:
    with _EXCLUDING_LOCK:  # reentrant: an array may die while this thread holds it
        entry = _EXCLUDING.get(key)
        if entry is not None and entry[0] is ref:
            del _EXCLUDING[key]


_EXCLUDING: dict[int, tuple[weakref.ref[np.ndarray], IdSet]] = {}
_EXCLUDING_LOCK = threading.RLock()


_WALKED = frozenset(("hnsw", "ivf"))  # families whose batches go in locality order
_UNCOMPRESSED = frozenset(("flat", "ivf_flat", "hnsw", "nsg"))  # vectors stored as they are

# A bitmap over ids costs max_id / 8 bytes and a few microseconds to build; IDSelectorBatch
# builds a hash set (~60 ns per id). Use the bitmap while it stays small next to the ids.
BITMAP_MAX_BYTES_PER_ID = 16
BITMAP_MAX_BYTES = 1 << 22


class IdSet:
    """The ids a filtered search may return (or, made by `excluding`, every id but some), with
    the Faiss selector over them built on first use, and the search parameters that carry it: a
    cached WHERE clause (`allowed_rows`) searches with the same set again and again, and
    making a SearchParameters object through Faiss' Python wrapper costs ~5 µs a search."""

    def __init__(self, ids: np.ndarray, selector: faiss.IDSelector | None = None) -> None:
        self.ids = ids
        self._selector = selector
        # By (family, nlist, ef_search, nprobe, k); read-only once made, like the selector.
        self._parameters: dict[tuple[Any, ...], faiss.SearchParameters | None] = {}
        self._lock = threading.Lock()

    @classmethod
    def excluding(cls, excluded: np.ndarray) -> IdSet:
        """Every id but `excluded`: its selector built now, the array not kept (`ids` empty)."""
        batch = faiss.IDSelectorBatch(np.ascontiguousarray(excluded, dtype=np.int64))
        selector = faiss.IDSelectorNot(batch)
        selector.referenced = batch  # keep the inner selector alive as long as the outer one
        return cls(np.empty(0, np.int64), selector)

    def selector(self) -> faiss.IDSelector:
        with self._lock:
            if self._selector is None:
                self._selector = _including(self.ids)
            return self._selector

    def parameters(
        self, family: str, nlist: int | None, settings: SearchSettings, k: int
    ) -> faiss.SearchParameters | None:
        """Search parameters with this set's selector (they hold nothing of the index but
        its family and list count, so indexes alike share them)."""
        key = (family, nlist, settings.ef_search, settings.nprobe, k)
        params = self._parameters.get(key)
        if params is None:
            params = _search_parameters(family, nlist, settings, k, self.selector())
            with self._lock:
                if len(self._parameters) < 64:
                    self._parameters[key] = params
        return params


def _including(included: np.ndarray) -> faiss.IDSelector:
    ids = np.ascontiguousarray(included, dtype=np.int64)
    if len(ids) == 0:
        return faiss.IDSelectorBatch(ids)
    low, high = int(ids.min()), int(ids.max())
    bitmap_bytes = high // 8 + 1
    if low < 0 or bitmap_bytes > max(BITMAP_MAX_BYTES_PER_ID * len(ids), 4096):
        return faiss.IDSelectorBatch(ids)
    if bitmap_bytes > BITMAP_MAX_BYTES:
        return faiss.IDSelectorBatch(ids)
    mask = np.zeros(high + 1, dtype=bool)
    mask[ids] = True
    bitmap = np.packbits(mask, bitorder="little")
    # Faiss' n is the bitmap's size in bytes: ids from n * 8 up are outside it, never members.
    selector = faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap))
    selector.referenced = bitmap  # Faiss reads the numpy buffer: keep it alive with the selector
    return selector


def _family(index: faiss.Index) -> str:
    """Which search parameters an index takes: hnsw, ivf, binary or plain."""
    if isinstance(index, faiss.IndexBinaryIDMap2):
        inner = faiss.downcast_IndexBinary(index.index)
    elif isinstance(index, faiss.IndexIDMap2):
        inner = faiss.downcast_index(index.index)
    else:
        inner = index
    if isinstance(inner, faiss.IndexBinaryHNSW | faiss.IndexHNSW):
        return "hnsw"
    if isinstance(inner, faiss.IndexBinary):
        return "binary"
    return "ivf" if faiss.try_extract_index_ivf(index) is not None else "plain"


def _nlist(index: faiss.Index, definition: IndexDef) -> int | None:
    if definition.binary:
        return int(index.nlist) if definition.type == "ivf_flat" else None
    ivf = faiss.try_extract_index_ivf(index)
    return None if ivf is None else int(ivf.nlist)


def _search_parameters(
    family: str, nlist: int | None, settings: SearchSettings, k: int, selector: Any
) -> faiss.SearchParameters | None:
    params: faiss.SearchParameters
    if family == "hnsw":
        params = faiss.SearchParametersHNSW()
        params.efSearch = max(settings.ef_search or DEFAULT_EF_SEARCH, k)
    elif family == "ivf":
        assert nlist is not None
        params = faiss.SearchParametersIVF()
        params.nprobe = min(settings.nprobe or DEFAULT_NPROBE, nlist)
    elif family == "binary" or selector is not None:
        params = faiss.SearchParameters()
    else:
        return None
    if selector is not None:
        params.sel = selector
    return params
