"""Top-k over a collection's segments: exact where there is no ready index, Faiss where there
is one, merged by exact distance.

Each indexed segment returns its k best ids (deleted ones excluded by a Faiss ID selector); the
exact part covers growing segments and sealed ones without a usable index. Candidates are then
ranked by their exact distance, so results never depend on an index's compressed codes.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace

import numpy as np

from sqlvec.engine.allowed_rows import AllowedRows, allowed_rows, live_count, live_positions
from sqlvec.engine.collection import Collection, Partition, Segment
from sqlvec.engine.filter_indexes import FilterBuild, Submit
from sqlvec.engine.filter_indexes import budget as filter_index_budget
from sqlvec.engine.filter_indexes import wanted as filter_index_wanted
from sqlvec.engine.rows import CollectionRows
from sqlvec.engine.search import distances_from_scores, knn, pairwise
from sqlvec.engine.vector_index import (
    DEFAULT_EF_SEARCH,
    DEFAULT_NPROBE,
    BuiltIndex,
    IdSet,
    SearchSettings,
    nlist_of,
)
from sqlvec.errors import InvalidParameterValue

# Lossy codes rank candidates approximately: fetch more of them and re-rank by exact distance
# (Faiss' IndexRefine idea), so compression costs little recall.
REFINE_FACTOR = {"ivf_pq": 4, "ivf_sq8": 2, "faiss": 2}


# Filtered search strategies by the fraction of rows a WHERE clause allows (issue: never come
# back short): below the first, exact search over them is cheapest; above the second, most
# rows qualify and over-fetching beats building an ID selector.
EXACT_BELOW_SELECTIVITY = 0.02
OVERFETCH_ABOVE_SELECTIVITY = 0.5
MAX_FILTERED_EF = 2048
_NEVER_NAN = frozenset(("l2", "l1", "hamming"))
FILTERED_EF_EXPONENT = 0.3


def selector_serves(selectivity: float) -> bool:
    """Whether a filter this selective is searched through the indexes with an ID selector
    (rather than exactly, or by over-fetching)."""
    return EXACT_BELOW_SELECTIVITY <= selectivity < OVERFETCH_ABOVE_SELECTIVITY


@dataclass
class SearchResult:
    positions: np.ndarray
    distances: np.ndarray
    notices: list[str] = field(default_factory=list)
    strategy: str = ""


@dataclass(slots=True)  # never changed once made; not frozen: made on every search
class SearchRequest:
    column: str
    query: np.ndarray
    k: int
    metric: str
    descending: bool = False
    candidates: np.ndarray | None = None  # positions a WHERE clause allows
    partitions: list[str] | None = None  # None: every partition
    settings: SearchSettings = field(default_factory=SearchSettings)
    exact: bool = False  # ignore indexes (EXPLAIN ANALYZE's recall measurement)


def search(collection: Collection, request: SearchRequest) -> SearchResult:
    rows = collection.rows
    snapshot = rows.snapshot()
    vectors = snapshot.vectors[request.column]
    deleted = rows.deleted_mask(snapshot.size)
    selected = collection.selected(request.partitions)
    everything = request.partitions is None and rows.deleted_count == 0
    indexed = [] if request.descending else _indexed_segments(collection, selected, request)
    if request.exact:
        codes = rows.partition_codes(snapshot.size)
        base = request.candidates
        if base is None:
            base = np.arange(snapshot.size, dtype=np.int64)
        return _exact(vectors, np.unique(live_positions(base, deleted, codes, selected)), request)
    if request.candidates is not None:
        # Positions of distinct ids are distinct: no need to deduplicate them.
        allowed = allowed_rows(
            collection, request.candidates, request.partitions, deleted, selected
        )
        if allowed.everything:
            return search(collection, replace(request, candidates=None))
        return _filtered(collection, vectors, deleted, selected, indexed, allowed, request)
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
        live = live_positions(np.arange(snapshot.size, dtype=np.int64), deleted, codes, selected)
        return _exact(vectors, live, request)
    if rows.deleted_count == 0 and _sole(indexed, selected, everything, snapshot.size):
        _check_nprobe(indexed[0].indexes[request.column], request.settings)
        return _sole_index(rows, vectors, indexed[0], request)
    return _merged(collection, vectors, deleted, selected, indexed, request)


def sole_search(collection: Collection, request: SearchRequest) -> SearchResult | None:
    """`search` where `_sole_index` answers it whole and plainly: the k nearest of every row
    (ascending, no candidates or partitions), none deleted, one indexed segment holding every
    row, its index's scores the distances, k rows found. The same rows and distances, without
    `search`'s bookkeeping; None where any of that does not hold (the caller runs `search`,
    which also raises or words the notice). See engine/plain_topk.py."""
    segment = sole_segment(collection, request)
    if segment is None:
        return None
    result = _sole_index(collection.rows, None, segment, request)
    return result if len(result.positions) == request.k and not result.notices else None


def sole_segment(
    collection: Collection, request: SearchRequest, filtered: bool = False
) -> Segment | None:
    """The one segment whose index answers `request` alone (`sole_search`, and with
    `filtered` `sole_filtered_search`: an index that takes an ID selector), or None."""
    rows = collection.rows
    if not _plainly_searched(rows, request):
        return None
    selected = list(collection.partitions.values())
    indexed = _indexed_segments(collection, selected, request)
    if filtered:
        indexed = _usable(indexed, request)
    if not _sole(indexed, selected, True, len(rows)):
        return None
    index = indexed[0].indexes[request.column]
    if not index.scores_are_distances(request.metric):
        return None
    if index.nlist is not None and (request.settings.nprobe or 0) > index.nlist:
        return None  # `search` refuses it
    return indexed[0]


def _plainly_searched(rows: CollectionRows, request: SearchRequest) -> bool:
    """What both short ways need: no row deleted, every partition searched, ascending, through
    the indexes, with no candidate list made yet."""
    if rows.deleted_count or request.candidates is not None or request.partitions is not None:
        return False
    return not (request.descending or request.exact)


def sole_filtered_search(
    collection: Collection, request: SearchRequest, candidates: np.ndarray
) -> SearchResult | None:
    """`search` of the rows a WHERE clause allows (`candidates`, matching positions) where
    `_sole_filtered` answers it whole: the strategy `_filtered` would pick is the ID selector
    (a usable index, selectivity between EXACT_BELOW_SELECTIVITY and
    OVERFETCH_ABOVE_SELECTIVITY), one indexed segment holds every row, none deleted, and the
    answer has min(k, allowed rows) rows. When the WHERE clause allows every row, `sole_search`.
    None where any of that does not hold (the caller runs `search`). See engine/plain_topk.py."""
    rows = collection.rows
    if not _plainly_searched(rows, request):
        return None
    selected = list(collection.partitions.values())
    allowed = allowed_rows(collection, candidates, None, rows.deleted_mask(len(rows)), selected)
    if allowed.everything:
        return sole_search(collection, request)
    if not selector_serves(allowed.selectivity):
        return None
    usable = _usable(_indexed_segments(collection, selected, request), request)
    sole = _sole_filtered(collection, selected, usable, allowed, request)
    if sole is None:
        return None
    result = sole[0]
    if len(result.positions) < min(request.k, len(allowed.positions)) or result.notices:
        return None  # `search` redoes it exactly
    return result


def _sole_filtered(
    collection: Collection,
    selected: list[Partition],
    indexed: list[Segment],
    allowed: AllowedRows,
    request: SearchRequest,
) -> tuple[SearchResult, bool] | None:
    """`_merged` for an ID-selector search where one indexed segment holds every row searched
    (`_sole`, none deleted) and its index's scores are the distances: the segment's index with
    the selector, or the filter's own index once it is ready (filter_indexes), answers alone.
    (result, whether the filter's own index answered); None where this does not apply."""
    rows = collection.rows
    everything = request.partitions is None
    if rows.deleted_count != 0 or not _sole(indexed, selected, everything, allowed.size):
        return None
    segment = indexed[0]
    index = segment.indexes[request.column]
    if not index.scores_are_distances(request.metric):
        return None
    # Checked on the settings given: the widened ones may go past the lists (Faiss caps them).
    _check_nprobe(index, request.settings)
    own = filter_index(collection, segment, request, allowed)  # counts this use if not ready
    if own is not None:
        return _sole_index(rows, None, segment, request, own), True
    wider = replace(request, settings=widened(request.settings, allowed.selectivity, request.k))
    return _sole_index(rows, None, segment, wider, included=allowed.ids(rows.ids())), False


def _sole(indexed: list[Segment], selected: list[Partition], everything: bool, size: int) -> bool:
    """Whether one indexed segment holds every row searched: all rows of the collection, or
    the only segment of the one partition searched (a partition key's)."""
    if len(indexed) != 1:
        return False
    if everything:
        return len(indexed[0].positions) == size
    return len(selected) == 1 and selected[0].growing.size == 0 and len(selected[0].sealed) == 1


def _sole_index(
    rows: CollectionRows,
    vectors: np.ndarray | None,
    segment: Segment,
    request: SearchRequest,
    own: BuiltIndex | None = None,
    included: IdSet | None = None,
) -> SearchResult:
    """`_merged` where one index covers every searched row and none is deleted: the common
    case of a sealed collection (or partition), without the bookkeeping of exact parts. `own`:
    a filter's own index of the segment (its rows are all the filter allows, its scores
    distances), searched instead of the segment's; `included`: the ids a selector allows."""
    index = own or segment.indexes[request.column]
    if index.scores_are_distances(request.metric):
        # The index's own scores are the exact distances (uncompressed vectors): no re-ranking.
        excluded = None if own is not None else segment.deleted_ids
        scores, ids = index.search(request.query, request.k, request.settings, excluded, included)
        result = ranked_by_index(rows, scores, ids, request.metric, request.k)
    else:
        assert vectors is not None and included is None, "re-ranking needs the vectors"
        positions = _segment_candidates(rows, segment, request, None)
        distances = pairwise(vectors[positions], request.query, request.metric)
        result = _in_order(positions, distances, request.metric, request.k)
    indexed_rows = index.ntotal
    return _finish(result, request, indexed_rows, len(result.positions) < indexed_rows)


def ranked_by_index(
    rows: CollectionRows, scores: np.ndarray, ids: np.ndarray, metric: str, k: int
) -> SearchResult:
    """An index's answer whose scores are the distances, as the rows' positions and
    distances in the order every search gives; rows deleted since the search began (no
    position now) left out."""
    if len(ids) <= _FEW and metric in _RANKED_IN_PYTHON:
        ranked = _few_ranked(rows, scores, ids, metric)
        if ranked is not None:
            return ranked
    positions = rows.lookup(ids)
    found = positions >= 0
    if not found.all():
        positions, scores = positions[found], scores[found]
    return _in_order(positions, distances_from_scores(scores, metric), metric, k)


# An answer of up to this many rows is ranked in Python: a dozen numpy calls on ten values
# cost more than the values' own work (~11 µs of a prepared kNN's answer, timed live).
_FEW = 64
_RANKED_IN_PYTHON = frozenset(("l2", "ip"))  # scores whose distances `_few_ranked` computes


def _few_ranked(
    rows: CollectionRows, scores: np.ndarray, ids: np.ndarray, metric: str
) -> SearchResult | None:
    """`ranked_by_index` of a short answer, computed as `distances_from_scores` and
    `_in_order` compute it (the square root of the float64 score, or its negation; by
    distance, then position); None where a row is gone or the id table cannot say."""
    found = rows.few_positions(ids, ids.tolist())
    if found is None or min(found) < 0:
        return None
    positions, values = found, scores.tolist()
    if metric == "l2":
        distances = [math.sqrt(value) if value > 0.0 else 0.0 for value in values]
    else:
        distances = [-value for value in values]
    if not all(a < b for a, b in itertools.pairwise(distances)):  # ties, or a NaN
        order = sorted(range(len(positions)), key=lambda i: _rank_key(distances[i], positions[i]))
        positions = [positions[i] for i in order]
        distances = [distances[i] for i in order]
    return SearchResult(np.array(positions, np.int64), np.array(distances, np.float64))


def _rank_key(distance: float, position: int) -> tuple[float, int]:
    return (math.inf if math.isnan(distance) else distance, position)


def _in_order(positions: np.ndarray, distances: np.ndarray, metric: str, k: int) -> SearchResult:
    """The k first by distance, ties by position."""
    # Sums of non-negative terms are never NaN; cosine (a zero vector) and inner product (an
    # overflow to inf - inf) can be.
    keys = distances
    if metric not in _NEVER_NAN:
        keys = np.where(np.isnan(distances), np.inf, distances)
    order = np.lexsort((positions, keys))[:k]
    return SearchResult(positions[order], distances[order])


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


def _exact_positions(
    selected: list[Partition], indexed: list[Segment], deleted: np.ndarray
) -> np.ndarray:
    """Live rows of the chosen partitions that no usable index covers: searched exactly."""
    by_index = {id(s) for s in indexed}
    parts = [p.growing_positions() for p in selected]
    parts += [s.positions for p in selected for s in p.sealed if id(s) not in by_index]
    positions = np.concatenate(parts) if parts else np.empty(0, np.int64)
    positions = positions[positions < len(deleted)]
    return positions[~deleted[positions]]


def _filtered(
    collection: Collection,
    vectors: np.ndarray,
    deleted: np.ndarray,
    selected: list[Partition],
    indexed: list[Segment],
    allowed: AllowedRows,
    request: SearchRequest,
) -> SearchResult:
    """A WHERE clause allowed these rows: pick the strategy by how many of them there are.

    Few (or no usable index): exact over them. Otherwise the indexes, restricted to them by a
    Faiss ID selector (or, when most rows qualify, over-fetching and dropping the others).
    Whatever the strategy, min(k, allowed rows) rows come back: a short approximate answer is
    redone exactly.
    """
    selectivity = allowed.selectivity
    usable = _usable(indexed, request)
    if not usable or selectivity < EXACT_BELOW_SELECTIVITY:
        result = _exact(vectors, allowed.positions, request)
        result.strategy = f"exact over {len(allowed.positions)} matching rows"
        return result
    strategy = (
        "ann with id selector" if selectivity < OVERFETCH_ABOVE_SELECTIVITY else "ann over-fetch"
    )
    sole = None
    if strategy == "ann with id selector":
        sole = _sole_filtered(collection, selected, usable, allowed, request)
    if sole is not None:
        result, through_own = sole
    else:
        result = _merged(collection, vectors, deleted, selected, usable, request, allowed)
        through_own = strategy == "ann with id selector" and _through_filter_indexes(
            collection, usable, request, allowed
        )
    if len(result.positions) < min(request.k, len(allowed.positions)):
        result = _exact(vectors, allowed.positions, request)
        strategy += ", widened to exact"
    elif through_own:
        strategy += ", through the filter's own indexes"
    result.strategy = f"{strategy} (selectivity {selectivity:.3f})"
    return result


def _usable(indexed: list[Segment], request: SearchRequest) -> list[Segment]:
    """Indexes a filtered search can use (NSG takes no ID selector)."""
    return [s for s in indexed if s.indexes[request.column].definition.type != "nsg"]


def _merged(
    collection: Collection,
    vectors: np.ndarray,
    deleted: np.ndarray,
    selected: list[Partition],
    indexed: list[Segment],
    request: SearchRequest,
    allowed: AllowedRows | None = None,
) -> SearchResult:
    rows = collection.rows
    exact = _exact_positions(selected, indexed, deleted)
    if allowed is not None:
        exact = exact[allowed.mask()[exact]]
    found = [knn(vectors[exact], request.query, request.k, request.metric)[0]]
    found[0] = exact[found[0]]
    reached_by_index = 0
    for segment in indexed:
        positions = _segment_candidates(rows, segment, request, allowed, collection)
        positions = positions[positions < len(deleted)]
        reached_by_index += len(positions)
        found.append(positions)
    # Each row is in one segment and each index returns an id once: no duplicates to drop.
    candidates = np.concatenate(found) if len(found) > 1 else found[0]
    distances = pairwise(vectors[candidates], request.query, request.metric)
    keys = np.where(np.isnan(distances), np.inf, distances)
    order = np.lexsort((candidates, keys))[: request.k]
    result = SearchResult(candidates[order], distances[order])
    if len(result.positions) >= request.k:
        return result  # the row counts below only explain a short answer
    indexed_rows = sum(live_count(s, deleted) for s in indexed)
    return _finish(result, request, len(exact) + indexed_rows, reached_by_index < indexed_rows)


def _segment_candidates(
    rows: CollectionRows,
    segment: Segment,
    request: SearchRequest,
    allowed: AllowedRows | None,
    collection: Collection | None = None,
) -> np.ndarray:
    """Positions of a segment's best rows by its index, restricted to the `allowed` rows
    (through the filter's own index of the segment when it has one: filter_indexes)."""
    index = segment.indexes[request.column]
    _check_nprobe(index, request.settings)
    fetch = request.k * REFINE_FACTOR.get(index.definition.type, 1)
    if allowed is None:
        _, ids = index.search(request.query, fetch, request.settings, segment.deleted_ids)
        return rows.positions_of(ids.tolist())
    selectivity = allowed.selectivity
    settings = widened(request.settings, selectivity, request.k)
    if selectivity >= OVERFETCH_ABOVE_SELECTIVITY:
        wanted = int(np.ceil(fetch / selectivity * 1.5))
        _, ids = index.search(request.query, wanted, settings, segment.deleted_ids)
        positions = rows.positions_of(ids)
        return positions[allowed.mask()[positions]]
    own = filter_index(collection, segment, request, allowed) if collection else None
    if own is not None:
        _, ids = own.search(request.query, fetch, request.settings, None)
        return rows.positions_of(ids.tolist())
    # Ids of other segments in the selector are harmless: this index holds none of them.
    _, ids = index.search(request.query, fetch, settings, None, allowed.ids(rows.ids()))
    return rows.positions_of(ids.tolist())


def filter_index(
    collection: Collection, segment: Segment, request: SearchRequest, allowed: AllowedRows
) -> BuiltIndex | None:
    """The index over the segment's rows that this filter allows, when one is ready; else
    the use is counted, and the index is built once the filter has come back often."""
    if allowed.candidates.flags.writeable or collection.background is None:
        return None  # a filter DuckDB evaluated: new rows each time, nothing comes back
    filters, rows, column = collection.filter_indexes, collection.rows, request.column
    found = filters.find(rows.version, segment, column, allowed.candidates)
    if found is None:
        submit = collection.background
        make = lambda: _filter_build(rows, segment, column, allowed, submit)  # noqa: E731
        filters.count_use(rows.version, segment, column, allowed.candidates, make)
    return found


def _through_filter_indexes(
    collection: Collection, segments: list[Segment], request: SearchRequest, allowed: AllowedRows
) -> bool:
    """Whether every segment was searched through an index of the filter's rows."""
    ready = collection.filter_indexes.count_ready(
        collection.rows.version, segments, request.column, allowed.candidates
    )
    return ready == len(segments)


def _filter_build(
    rows: CollectionRows, segment: Segment, column: str, allowed: AllowedRows, submit: Submit
) -> FilterBuild | None:
    definition = segment.indexes[column].definition
    in_segment = segment.positions[segment.positions < allowed.size]
    in_segment = in_segment[allowed.mask()[in_segment]]
    if not filter_index_wanted(definition, len(in_segment)):
        return None
    vectors = rows.snapshot().vectors[column]
    ids = np.ascontiguousarray(rows.ids()[in_segment])
    budget = filter_index_budget(vectors)
    return FilterBuild(allowed.candidates, definition, vectors, in_segment, ids, budget, submit)


def widened(settings: SearchSettings, selectivity: float, k: int) -> SearchSettings:
    """Filtered graph and list searches reach fewer rows: look proportionally further."""
    ef = settings.ef_search or DEFAULT_EF_SEARCH
    nprobe = settings.nprobe or DEFAULT_NPROBE
    return SearchSettings(
        nprobe=int(min(nprobe / max(selectivity, 1e-3), 10**6))
        if settings.nprobe is None
        else nprobe,
        # Faiss' HNSW skips filtered-out rows in its result list but still walks them: at 10%
        # selectivity ef x 10^0.3 (2x) keeps recall@10 about where unfiltered search is
        # (0.97-0.98 on vs_pgvector's clustered data; tests/unit/engine/test_recall.py checks
        # 1/10/50%), where ef / selectivity costs 3-4x the time for no measurable gain.
        ef_search=int(
            min(max(ef, k) / max(selectivity, 1e-3) ** FILTERED_EF_EXPONENT, MAX_FILTERED_EF)
        ),
        search_length=settings.search_length,
    )


def _exact(vectors: np.ndarray, positions: np.ndarray, request: SearchRequest) -> SearchResult:
    found, distances = knn(
        vectors[positions], request.query, request.k, request.metric, descending=request.descending
    )
    return _finish(SearchResult(positions[found], distances), request, len(positions))


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
            f"vector search returned {returned} of {request.k} rows: only {live_rows} "
            f"row{'s' if live_rows != 1 else ''} match in the searched partitions"
        )
    elif approximate:
        nprobe = request.settings.nprobe or DEFAULT_NPROBE
        result.notices.append(
            f"vector search returned {returned} of {request.k} rows: the index search reached "
            f"only {returned} rows; raise nprobe (now {nprobe}) or ef_search"
        )
    return result
