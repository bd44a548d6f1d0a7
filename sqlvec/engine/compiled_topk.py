"""A plain top-k search compiled against the state of its collection: the prepared kNN's
fastest way (engine/plain_topk.py).

For each execution `plain_topk` finds again that the statement and the collection are in the
plain case, then searches through `segment_search`'s short ways. What it finds depends only on
the plan, the session's search settings and the collection's layout: which segment's index
answers alone and with which Faiss parameters. So the first execution that finds the plain
case keeps what it found here, and the next ones check that the layout is the same (the rows
object and its version, the column's index definition, the segment's index) and search the
index with the kept parameters directly. A server answering a prepared 128-d kNN over the wire
spent ~40 µs of Python around a ~60 µs Faiss call finding it all again (benchmarks/README.md).

The answer is the same: the same index searched with the same parameters, ranked by
`segment_search.ranked_by_index` as `sole_search` ranks it, and declined (None, the caller
takes the general way) wherever `sole_search` or `sole_filtered_search` would decline.
tests/unit/engine/test_compiled_topk.py compares both ways as the layout changes under them.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np

from sqlvec.engine.allowed_rows import allowed_rows
from sqlvec.engine.collection import Collection, Segment
from sqlvec.engine.faiss_setup import faiss
from sqlvec.engine.index_types import IndexDef
from sqlvec.engine.rows import CollectionRows
from sqlvec.engine.segment_search import (
    SearchRequest,
    SearchResult,
    filter_index,
    ranked_by_index,
    selector_serves,
    sole_segment,
    widened,
)
from sqlvec.engine.vector_index import BuiltIndex, SearchSettings

MAX_KEPT = 256  # compiled searches a collection keeps (one per prepared plan and settings)


@dataclass
class CompiledTopK:
    """What `sole_segment` found for one plan, settings and k, with the layout it held for.
    The rows, segment and index are held weakly: an entry never keeps a compacted-away copy of
    the rows or a replaced index alive."""

    plan: object  # the plan compiled: an entry answers for this very plan only
    settings: SearchSettings
    k: int
    rows_ref: weakref.ref[CollectionRows]
    version: int
    definition: IndexDef
    segment_ref: weakref.ref[Segment]
    index_ref: weakref.ref[BuiltIndex]
    params: faiss.SearchParameters | None
    # Filtered searches: the settings widened for a selectivity, by selectivity.
    widened: dict[float, SearchSettings] = field(default_factory=dict)
    # The one index answers alone but cannot be searched with kept parameters (NSG takes no
    # parameters object; fewer rows than k): kept so that the next executions on this
    # layout go the usual way at once, without finding it all again.
    declined: bool = False

    def current(self, collection: Collection, request: SearchRequest) -> Layout | None:
        """The layout it was compiled for, where it still holds for these settings and k."""
        rows, segment, index = self.rows_ref(), self.segment_ref(), self.index_ref()
        column = request.column
        if (
            rows is None
            or segment is None
            or index is None
            or collection.rows is not rows
            or rows.version != self.version
            or collection.indexes.get(column) is not self.definition
            or segment.indexes.get(column) is not index
            or request.k != self.k
        ):
            return None
        if request.settings is not self.settings and request.settings != self.settings:
            return None
        return Layout(self, rows, segment, index)

    def widened_for(self, selectivity: float) -> SearchSettings:
        settings = self.widened.get(selectivity)
        if settings is None:
            settings = widened(self.settings, selectivity, self.k)
            if len(self.widened) < MAX_KEPT:
                self.widened[selectivity] = settings
        return settings


class Layout:
    """A compiled search with the layout it holds for: what one execution searches. (A
    plain class: made for every execution, where a dataclass' init costs a microsecond.)"""

    __slots__ = ("compiled", "index", "rows", "segment")

    def __init__(
        self, compiled: CompiledTopK, rows: CollectionRows, segment: Segment, index: BuiltIndex
    ) -> None:
        self.compiled = compiled
        self.rows = rows
        self.segment = segment
        self.index = index

    def search(self, request: SearchRequest) -> SearchResult | None:
        """`sole_search`'s answer, or None where it has fewer than k rows."""
        k = self.compiled.k
        scores, ids = self.index.search_with(request.query, k, self.compiled.params)
        return _whole(ranked_by_index(self.rows, scores, ids, request.metric, k), k)

    def filtered(
        self, collection: Collection, request: SearchRequest, candidates: np.ndarray
    ) -> SearchResult | None:
        """`sole_filtered_search`'s answer for the rows a WHERE clause allows, or None."""
        rows = self.rows
        selected = list(collection.partitions.values())
        allowed = allowed_rows(collection, candidates, None, rows.deleted_mask(len(rows)), selected)
        if allowed.everything:
            return self.search(request)
        share = allowed.selectivity
        if not selector_serves(share):
            return None
        compiled, k = self.compiled, self.compiled.k
        own = filter_index(collection, self.segment, request, allowed)  # counts the use
        if own is not None:
            params = own.plain_parameters(compiled.settings, k)
            scores, ids = own.search_with(request.query, k, params)
        else:
            settings = compiled.widened_for(share)
            params = self.index.plain_parameters(settings, k, allowed.ids(rows.ids()))
            scores, ids = self.index.search_with(request.query, k, params)
        return _whole(ranked_by_index(rows, scores, ids, request.metric, k), k)


def _whole(result: SearchResult, k: int) -> SearchResult | None:
    """The answer where it has k rows. A shorter one `sole_search` and `sole_filtered_search`
    decline too: the general way words the notice that says why (or redoes it exactly)."""
    return result if len(result.positions) == k else None


def compiled_topk(
    collection: Collection, plan: object, request: SearchRequest, filtered: bool
) -> Layout | None:
    """The plan's compiled search with its layout, compiled again where that no longer holds;
    None where `sole_segment` finds no one index to answer alone (the caller takes the usual
    way). Run under the collection's layout lock, as the search."""
    key = (id(plan), filtered)
    kept = collection.compiled_searches.get(key)
    if kept is not None and kept.plan is plan:
        layout = kept.current(collection, request)
        if layout is not None:
            return None if kept.declined else layout
    compiled = _compile(collection, plan, request, filtered)
    if compiled is None:
        return None
    if len(collection.compiled_searches) >= MAX_KEPT:
        collection.compiled_searches.clear()
    collection.compiled_searches[key] = compiled
    return None if compiled.declined else compiled.current(collection, request)


def _compile(
    collection: Collection, plan: object, request: SearchRequest, filtered: bool
) -> CompiledTopK | None:
    rows = collection.rows
    version = rows.version  # read first: a write after it makes the entry stale, never wrong
    definition = collection.indexes.get(request.column)
    segment = sole_segment(collection, request, filtered)
    if segment is None or definition is None:
        return None
    index = segment.indexes[request.column]
    declined = not index.takes_parameters() or index.ntotal < request.k
    params = None if declined else index.plain_parameters(request.settings, request.k)
    return CompiledTopK(
        plan,
        request.settings,
        request.k,
        weakref.ref(rows),
        version,
        definition,
        weakref.ref(segment),
        weakref.ref(index),
        params,
        declined=declined,
    )
