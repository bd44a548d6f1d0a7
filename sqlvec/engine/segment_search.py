"""Top-k over a collection's segments: exact where there is no ready index, Faiss where there
is one, merged by exact distance.

Each indexed segment returns its k best ids (deleted ones excluded by a Faiss ID selector); the
exact part covers growing segments and sealed ones without a usable index. Candidates are then
ranked by their exact distance, so results never depend on an index's compressed codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sqlvec.engine.collection import Collection, Partition, Segment
from sqlvec.engine.search import knn, pairwise
from sqlvec.engine.vector_index import DEFAULT_NPROBE, BuiltIndex, SearchSettings, nlist_of
from sqlvec.errors import InvalidParameterValue

# Lossy codes rank candidates approximately: fetch more of them and re-rank by exact distance
# (Faiss' IndexRefine idea), so compression costs little recall.
REFINE_FACTOR = {"ivf_pq": 4, "ivf_sq8": 2, "faiss": 2}


@dataclass
class SearchResult:
    positions: np.ndarray
    distances: np.ndarray
    notices: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SearchRequest:
    column: str
    query: np.ndarray
    k: int
    metric: str
    descending: bool = False
    candidates: np.ndarray | None = None  # positions a WHERE clause allows
    partitions: list[str] | None = None  # None: every partition
    settings: SearchSettings = field(default_factory=SearchSettings)


def search(collection: Collection, request: SearchRequest) -> SearchResult:
    rows = collection.rows
    snapshot = rows.snapshot()
    vectors = snapshot.vectors[request.column]
    deleted = rows.deleted_mask(snapshot.size)
    selected = collection.selected(request.partitions)
    everything = request.partitions is None and rows.deleted_count == 0
    if request.candidates is not None:
        allowed = _live(request.candidates, deleted, rows.partition_codes(snapshot.size), selected)
        return _exact(vectors, allowed, request)
    indexed = [] if request.descending else _indexed_segments(collection, selected, request)
    if not indexed:
        if everything:
            positions, distances = knn(
                vectors,
                request.query,
                request.k,
                request.metric,
                descending=request.descending,
                normalized=lambda: rows.normalized(request.column, snapshot.size),
            )
            return _finish(SearchResult(positions, distances), request, snapshot.size)
        codes = rows.partition_codes(snapshot.size)
        live = _live(np.arange(snapshot.size, dtype=np.int64), deleted, codes, selected)
        return _exact(vectors, live, request)
    return _merged(collection, vectors, deleted, selected, indexed, request)


def _indexed_segments(
    collection: Collection, selected: list[Partition], request: SearchRequest
) -> list[Segment]:
    definition = collection.indexes.get(request.column)
    if definition is None or definition.metric != request.metric:
        return []  # an index serves only its own distance, as in pgvector
    return [
        segment
        for partition in selected
        for segment in partition.sealed
        if request.column in segment.indexes
    ]


def _merged(
    collection: Collection,
    vectors: np.ndarray,
    deleted: np.ndarray,
    selected: list[Partition],
    indexed: list[Segment],
    request: SearchRequest,
) -> SearchResult:
    rows = collection.rows
    exact_parts = [p.growing_positions() for p in selected]
    exact_parts += [
        s.positions for p in selected for s in p.sealed if request.column not in s.indexes
    ]
    exact = np.concatenate(exact_parts) if exact_parts else np.empty(0, np.int64)
    exact = exact[exact < len(deleted)]
    exact = exact[~deleted[exact]]
    found = [knn(vectors[exact], request.query, request.k, request.metric)[0]]
    found[0] = exact[found[0]]
    reached_by_index = 0
    for segment in indexed:
        index = segment.indexes[request.column]
        _check_nprobe(index, request.settings)
        fetch = request.k * REFINE_FACTOR.get(index.definition.type, 1)
        _, ids = index.search(request.query, fetch, request.settings, segment.deleted_ids)
        positions = rows.positions_of(ids.tolist())
        positions = positions[positions < len(deleted)]
        reached_by_index += len(positions)
        found.append(positions)
    candidates = np.unique(np.concatenate(found))
    distances = pairwise(vectors[candidates], request.query, request.metric)
    keys = np.where(np.isnan(distances), np.inf, distances)
    order = np.lexsort((candidates, keys))[: request.k]
    result = SearchResult(candidates[order], distances[order])
    live_rows = len(exact) + sum(len(s.positions) - len(s.deleted_ids) for s in indexed)
    return _finish(result, request, live_rows, reached_by_index < _indexed_rows(indexed))


def _exact(vectors: np.ndarray, positions: np.ndarray, request: SearchRequest) -> SearchResult:
    found, distances = knn(
        vectors[positions], request.query, request.k, request.metric, descending=request.descending
    )
    return _finish(SearchResult(positions[found], distances), request, len(positions))


def _live(
    positions: np.ndarray, deleted: np.ndarray, codes: np.ndarray, selected: list[Partition]
) -> np.ndarray:
    positions = positions[positions < len(deleted)]
    keep = ~deleted[positions]
    keep &= np.isin(codes[positions], [p.code for p in selected])
    return positions[keep]


def _indexed_rows(segments: list[Segment]) -> int:
    return sum(len(s.positions) - len(s.deleted_ids) for s in segments)


def _check_nprobe(index: BuiltIndex, settings: SearchSettings) -> None:
    nlist = nlist_of(index)
    if nlist is not None and settings.nprobe is not None and settings.nprobe > nlist:
        raise InvalidParameterValue(
            f"nprobe = {settings.nprobe} is out of range for this index",
            detail=f"Valid values are between 1 and nlist = {nlist}.",
        )


def _finish(
    result: SearchResult, request: SearchRequest, live_rows: int, approximate: bool = False
) -> SearchResult:
    """Say why a search returned fewer than k rows, rather than padding it."""
    returned = len(result.positions)
    if returned >= request.k:
        return result
    if live_rows <= returned:
        result.notices.append(
            f"vector search returned {returned} of {request.k} rows: only {live_rows} rows "
            "match in the searched partitions"
        )
    elif approximate:
        nprobe = request.settings.nprobe or DEFAULT_NPROBE
        result.notices.append(
            f"vector search returned {returned} of {request.k} rows: the index search reached "
            f"only {returned} rows; raise nprobe (now {nprobe}) or ef_search"
        )
    return result
