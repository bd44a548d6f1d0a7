"""Range search over a collection's segments: every live row whose distance passes a bound.

Sealed segments whose index has a Faiss `range_search` (flat and the IVF family) are searched
through it; growing segments, sealed ones without a ready index, and HNSW or NSG segments are
searched exactly with numpy. Faiss' HNSW range search only reports the rows its beam reaches
(at most ef_search), so it would cut a large range short: an HNSW segment is scanned instead,
which costs as much as a flat index and is always complete. NSG has no range search.

Faiss ranges are widened a little and every candidate is checked against the bound with its
exact distance (float64, pgvector's formula), so a row is returned exactly when Postgres would
keep it; only a lossy or partial index (IVF probes, SQ8/PQ codes) can miss rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sqlvec.engine.allowed_rows import live_positions
from sqlvec.engine.collection import Collection, Segment
from sqlvec.engine.search import pairwise
from sqlvec.engine.segment_search import (
    EXACT_BELOW_SELECTIVITY,
    OVERFETCH_ABOVE_SELECTIVITY,
    SearchRequest,
    SearchResult,
    _check_nprobe,
    _exact_positions,
    _indexed_segments,
)
from sqlvec.engine.vector_index import BuiltIndex, IdSet

RANGE_INDEX_TYPES = ("flat", "ivf_flat", "ivf_sq8", "ivf_pq", "faiss")
_CHUNK_ROWS = 65_536  # rows per block of an exact scan: bounds its temporary memory
_RELATIVE_SLACK = 1e-3  # how far a Faiss range is widened (float32 distances, lossy codes)


@dataclass(frozen=True)
class RangeBound:
    """Which distances qualify. `radius` caps them (the bound solved for the distance, before
    rounding); `keep` is the exact test, as Postgres evaluates the predicate."""

    radius: float
    keep: Callable[[np.ndarray], np.ndarray]


def range_search(
    collection: Collection, request: SearchRequest, bound: RangeBound, limit: int | None
) -> SearchResult:
    """The qualifying rows, ordered by distance (then position), at most `limit` of them.
    `request.k` is ignored; `request.candidates` and `request.partitions` restrict the rows."""
    rows = collection.rows
    snapshot = rows.snapshot()
    vectors = snapshot.vectors[request.column]
    deleted = rows.deleted_mask(snapshot.size)
    selected = collection.selected(request.partitions)
    indexed = [] if request.exact else _range_segments(collection, selected, request, bound)
    allowed_mask: np.ndarray | None = None
    strategy = "index range search" if indexed else "exact scan"
    if request.candidates is not None:
        codes = rows.partition_codes(snapshot.size)
        allowed = live_positions(request.candidates, deleted, codes, selected)
        live_rows = max(sum(_live_in(p.growing.view(), deleted) for p in selected), 0) + sum(
            _live_in(s.positions, deleted) for p in selected for s in p.sealed
        )
        selectivity = len(allowed) / max(live_rows, 1)
        if selectivity < EXACT_BELOW_SELECTIVITY:
            indexed = []
        allowed_mask = np.zeros(len(deleted), dtype=bool)
        allowed_mask[allowed] = True
        strategy = (
            f"{'index range search' if indexed else 'exact scan'} of the matching rows "
            f"(selectivity {selectivity:.3f})"
        )
    exact = _exact_positions(selected, indexed, deleted)
    if allowed_mask is not None:
        exact = exact[allowed_mask[exact]]
    parts = [_scan(vectors, exact, request, bound)]
    for segment in indexed:
        candidates = _segment_range(collection, segment, request, bound, allowed_mask)
        candidates = candidates[(candidates < len(deleted))]
        candidates = candidates[~deleted[candidates]]
        parts.append(_scan(vectors, candidates, request, bound))
    positions = np.concatenate([p for p, _ in parts])
    distances = np.concatenate([d for _, d in parts])
    keys = -distances if request.descending else distances
    order = np.lexsort((positions, keys))
    if limit is not None:
        order = order[:limit]
    return SearchResult(positions[order], distances[order], strategy=strategy)


def _range_segments(
    collection: Collection, selected: list, request: SearchRequest, bound: RangeBound
) -> list[Segment]:
    """Indexed segments searched through Faiss' range search (see the module docstring)."""
    if not np.isfinite(bound.radius):
        return []
    return [
        s
        for s in _indexed_segments(collection, selected, request)
        if s.indexes[request.column].definition.type in RANGE_INDEX_TYPES
    ]


def _scan(
    vectors: np.ndarray, positions: np.ndarray, request: SearchRequest, bound: RangeBound
) -> tuple[np.ndarray, np.ndarray]:
    """(positions, distances) of the rows among `positions` whose exact distance qualifies."""
    found_positions, found_distances = [], []
    for start in range(0, len(positions), _CHUNK_ROWS):
        block = positions[start : start + _CHUNK_ROWS]
        distances = pairwise(vectors[block], request.query, request.metric)
        keep = bound.keep(distances)
        found_positions.append(block[keep])
        found_distances.append(distances[keep])
    if not found_positions:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    return np.concatenate(found_positions), np.concatenate(found_distances)


def _segment_range(
    collection: Collection,
    segment: Segment,
    request: SearchRequest,
    bound: RangeBound,
    allowed: np.ndarray | None,
) -> np.ndarray:
    """Positions of a segment's rows within the (widened) radius, by its index."""
    index = segment.indexes[request.column]
    _check_nprobe(index, request.settings)
    radius = faiss_radius(index, request.metric, bound.radius)
    rows = collection.rows
    included = None
    if allowed is not None:
        inside = segment.positions[allowed[segment.positions]]
        if len(inside) == 0:
            return inside
        if len(inside) / max(len(segment.positions), 1) < OVERFETCH_ABOVE_SELECTIVITY:
            included = IdSet(rows.ids()[inside])
    ids = index.range_search(request.query, radius, request.settings, segment.deleted_ids, included)
    positions = rows.positions_of(ids)
    if allowed is not None:
        positions = positions[allowed[positions]]
    return positions


def faiss_radius(index: BuiltIndex, metric: str, radius: float) -> float:
    """The bound on pgvector's distance as Faiss' range_search radius, slightly widened.

    Faiss L2 indexes keep rows with squared distance < radius (so the radius is squared); inner
    product indexes keep rows with inner product > radius. `<#>` is the negative inner
    product, so `e <#> q < r` means ip > -r; cosine indexes hold unit vectors, so `e <=> q < r`
    means ip > 1 - r."""
    slack = _RELATIVE_SLACK * max(1.0, abs(radius))
    if metric == "l2":
        return float((max(radius, 0.0) + slack) ** 2)
    if metric == "ip":
        return -radius - slack
    return 1.0 - radius - slack  # cosine


def _live_in(positions: np.ndarray, deleted: np.ndarray) -> int:
    positions = positions[positions < len(deleted)]
    return int((~deleted[positions]).sum())
