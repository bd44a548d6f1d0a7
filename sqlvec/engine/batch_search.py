"""`search` for many query vectors at once (a LATERAL statement): one batched Faiss call per
segment, not one per query, filtered or not, and every query's candidates ranked together.

The strategies are `segment_search`'s, applied to the whole batch: a WHERE clause's allowed
rows (the same for every query) restrict each index's batched search through one Faiss ID
selector, or are searched exactly in one brute-force call when few rows qualify. A query whose
filtered answer comes back short is redone exactly, alone, as a single search would be.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from sqlvec.engine import cancel
from sqlvec.engine.allowed_rows import AllowedRows, allowed_rows, live_count
from sqlvec.engine.collection import Collection, Partition, Segment
from sqlvec.engine.search import distances_from_scores, knn_batch, pairwise_many
from sqlvec.engine.segment_search import (
    EXACT_BELOW_SELECTIVITY,
    OVERFETCH_ABOVE_SELECTIVITY,
    REFINE_FACTOR,
    SearchRequest,
    SearchResult,
    _check_nprobe,
    _exact,
    _exact_positions,
    _finish,
    _indexed_segments,
    _usable,
    search,
    widened,
)


def search_batch(
    collection: Collection, request: SearchRequest, queries: np.ndarray
) -> list[SearchResult]:
    """The results of `search` for each of `queries`, in order."""
    if request.descending:
        return [search(collection, replace(request, query=q)) for q in queries]
    if request.candidates is not None:
        return _filtered_batch(collection, request, queries)
    rows = collection.rows
    snapshot = rows.snapshot()
    vectors = snapshot.vectors[request.column]
    deleted = rows.deleted_mask(snapshot.size)
    selected = collection.selected(request.partitions)
    indexed = _indexed_segments(collection, selected, request)
    if request.partitions is None and rows.deleted_count == 0 and not indexed:
        found = knn_batch(
            vectors,
            queries,
            request.k,
            request.metric,
            normalized=lambda: rows.normalized(request.column, snapshot.size),
        )
        return [_finish(SearchResult(p, d), request, snapshot.size) for p, d in found]
    exact = _exact_positions(selected, indexed, deleted)
    blocks = _exact_block(vectors, exact, queries, request)
    for segment in indexed:
        blocks.append(_index_block(collection, segment, request, queries, len(deleted), None))
    live = len(exact) + sum(live_count(s, deleted) for s in indexed)
    return _ranked(vectors, blocks, queries, request, live)


def _filtered_batch(
    collection: Collection, request: SearchRequest, queries: np.ndarray
) -> list[SearchResult]:
    assert request.candidates is not None
    rows = collection.rows
    snapshot = rows.snapshot()
    vectors = snapshot.vectors[request.column]
    deleted = rows.deleted_mask(snapshot.size)
    selected = collection.selected(request.partitions)
    allowed = allowed_rows(collection, request.candidates, request.partitions, deleted, selected)
    if allowed.everything:
        return search_batch(collection, replace(request, candidates=None), queries)
    usable = _usable(_indexed_segments(collection, selected, request), request)
    if not usable or allowed.selectivity < EXACT_BELOW_SELECTIVITY:
        return _exact_batch(vectors, allowed.positions, queries, request)
    return _filtered_through_indexes(
        collection, vectors, deleted, selected, usable, allowed, request, queries
    )


def _exact_batch(
    vectors: np.ndarray, positions: np.ndarray, queries: np.ndarray, request: SearchRequest
) -> list[SearchResult]:
    """Every query over the same rows, in one brute-force Faiss call."""
    found = knn_batch(vectors[positions], queries, request.k, request.metric)
    return [
        _finish(
            SearchResult(positions[labels[labels >= 0]], distances[labels >= 0]),
            request,
            len(positions),
        )
        for labels, distances in found
    ]


def _filtered_through_indexes(
    collection: Collection,
    vectors: np.ndarray,
    deleted: np.ndarray,
    selected: list[Partition],
    usable: list[Segment],
    allowed: AllowedRows,
    request: SearchRequest,
    queries: np.ndarray,
) -> list[SearchResult]:
    """The indexes restricted to the allowed rows, one batched call each; the allowed rows no
    index covers searched exactly, in one call."""
    exact = _exact_positions(selected, usable, deleted)
    exact = exact[allowed.mask()[exact]]
    blocks = _exact_block(vectors, exact, queries, request)
    for segment in usable:
        blocks.append(_index_block(collection, segment, request, queries, len(deleted), allowed))
    results = _ranked(vectors, blocks, queries, request, len(allowed.positions))
    wanted = min(request.k, len(allowed.positions))
    for i, result in enumerate(results):
        if len(result.positions) < wanted:  # the index search fell short: exactly, as `search`
            results[i] = _exact(vectors, allowed.positions, replace(request, query=queries[i]))
    return results


# Each query's candidates from one source: positions (-1 where none), and their exact
# distances where the source computed them (None: computed from the vectors when ranking).
Block = tuple[np.ndarray, np.ndarray | None]


def _exact_block(
    vectors: np.ndarray, exact: np.ndarray, queries: np.ndarray, request: SearchRequest
) -> list[Block]:
    """The candidate blocks to rank, starting with the exact part's (none when it is empty)."""
    empty = np.full((len(queries), 0), -1, dtype=np.int64)
    blocks: list[Block] = [(empty, np.zeros(empty.shape))]
    if len(exact):
        found = knn_batch(vectors[exact], queries, request.k, request.metric)
        blocks.append(_padded(found, exact))
    return blocks


def _index_block(
    collection: Collection,
    segment: Segment,
    request: SearchRequest,
    queries: np.ndarray,
    size: int,
    allowed: AllowedRows | None,
) -> Block:
    """Each query's candidates from one segment's index."""
    cancel.check()  # a batch may span many segments; Faiss itself is not interruptible
    rows = collection.rows
    index = segment.indexes[request.column]
    _check_nprobe(index, request.settings)
    fetch = request.k * REFINE_FACTOR.get(index.definition.type, 1)
    if allowed is None:
        scores, ids = index.search_many(queries, fetch, request.settings, segment.deleted_ids)
    elif allowed.selectivity >= OVERFETCH_ABOVE_SELECTIVITY:
        settings = widened(request.settings, allowed.selectivity, request.k)
        wanted = int(np.ceil(fetch / allowed.selectivity * 1.5))
        scores, ids = index.search_many(queries, wanted, settings, segment.deleted_ids)
    else:
        settings = widened(request.settings, allowed.selectivity, request.k)
        scores, ids = index.search_many(queries, fetch, settings, None, allowed.ids(rows.ids()))
    positions = rows.lookup(ids.ravel()).reshape(ids.shape)
    positions = np.where((positions >= 0) & (positions < size), positions, -1)
    if allowed is not None:
        positions = np.where(allowed.mask()[np.maximum(positions, 0)], positions, -1)
    if not index.scores_are_distances(request.metric):
        return positions, None
    return positions, distances_from_scores(scores, request.metric)


def _ranked(
    vectors: np.ndarray,
    blocks: list[Block],
    queries: np.ndarray,
    request: SearchRequest,
    live: int,
) -> list[SearchResult]:
    """Every query's candidates in one matrix (-1 where none; each row is in one segment, so
    no duplicates), ranked by exact distance together, not query by query. The distances are
    the sources' own where all of them computed exact ones (uncompressed vectors), else
    computed from the vectors."""
    pool = np.hstack([positions for positions, _ in blocks])
    valid = pool >= 0
    known = [distances for _, distances in blocks]
    if all(d is not None for d in known):
        distances = np.hstack(known)  # type: ignore[arg-type]
    else:
        distances = pairwise_many(vectors, np.where(valid, pool, 0), queries, request.metric)
    keys = np.where(valid & ~np.isnan(distances), distances, np.inf)
    order = np.lexsort((pool, keys, ~valid), axis=-1)[:, : request.k]
    if order.shape[1] == request.k and np.take_along_axis(valid, order, axis=-1).all():
        # Every query found k rows (the usual case): rows of two matrices, no per-query work.
        positions = np.take_along_axis(pool, order, axis=-1)
        ranked = np.take_along_axis(distances, order, axis=-1)
        return [SearchResult(p, d) for p, d in zip(positions, ranked, strict=True)]
    results = []
    for i in range(len(queries)):
        chosen = order[i][valid[i, order[i]]]
        result = SearchResult(pool[i, chosen], distances[i, chosen])
        results.append(_finish(result, request, live))
    return results


def _padded(found: list[tuple[np.ndarray, np.ndarray]], positions: np.ndarray) -> Block:
    """Per-query labels into `positions` (and their distances) as one matrix of positions,
    -1 where fewer."""
    width = max((len(labels) for labels, _ in found), default=0)
    matrix = np.full((len(found), width), -1, dtype=np.int64)
    distances = np.zeros((len(found), width))
    for i, (labels, found_distances) in enumerate(found):
        kept = labels >= 0
        count = int(kept.sum())
        matrix[i, :count] = positions[labels[kept]]
        distances[i, :count] = found_distances[kept]
    return matrix, distances
