"""Indexes over the rows a repeated WHERE clause allows, one per sealed segment.

A filtered search through a segment's HNSW index with an ID selector walks the whole graph and
keeps only the allowed rows: at 10 % it needs twice the ef for the same recall and costs about
four times a search of an index built over the allowed rows alone (100k x 128, `category = c`:
123 us at recall 0.958, against 34 us at 0.998). So once the same filter (the same cached
`AllowedRows`) has searched a segment `BUILD_AFTER_USES` times, an index of the segment's type
and parameters is built over the segment's allowed rows on the builder thread, and the
filter's searches of that segment use it from then on.

An entry belongs to one version of the collection's rows: any write makes new `AllowedRows`
and drops every entry at the next lookup, so a filter index is never stale (its rows were live
when it was built, and a later delete is a new version), and a collection that keeps changing
builds none. Their bytes are bounded per collection, least recently used dropped first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sqlvec.engine.builder import Job
from sqlvec.engine.index_types import IndexDef
from sqlvec.engine.vector_index import BuiltIndex, build

if TYPE_CHECKING:  # collection.py holds a FilterIndexes
    from sqlvec.engine.collection import Segment

BUILD_AFTER_USES = 8  # searches of a segment with one filter before its filter index is built
MIN_ROWS = 1000  # fewer allowed rows in a segment: the selector search is cheap enough
# What the filter indexes of a collection may hold: this share of its vectors' bytes (but at
# least MIN_BUDGET). The indexes of every value of one column (ten 10 % filters) hold all the
# vectors once more, plus ids and graphs: 1.1x (384-d) to 1.3x (128-d) of them.
BUDGET_SHARE = 1.5
MIN_BUDGET = 64 * 1024 * 1024
_MAX_USE_COUNTS = 4096  # distinct (filter, segment) pairs counted before the counts start over

Key = tuple[int, int, str]  # id of the filter's matching-rows array, segment id, column
Submit = Callable[[Job], None]


@dataclass
class _Entry:
    candidates: np.ndarray  # the filter's matching rows: kept alive, compared by identity
    index: BuiltIndex
    nbytes: int


class FilterIndexes:
    """The filter indexes of one collection's rows (see the module's docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version = -1
        self._entries: OrderedDict[Key, _Entry] = OrderedDict()
        self._uses: dict[Key, int] = {}
        self._building: set[Key] = set()
        # Too few rows, a kind of index not worth it, or dropped for room in this version.
        self._declined: set[Key] = set()
        self._bytes = 0

    def find(
        self, version: int, segment: Segment, column: str, candidates: np.ndarray
    ) -> BuiltIndex | None:
        """The filter index of these matching rows on this segment, if one is ready."""
        key = (id(candidates), segment.id, column)
        with self._lock:
            self._at(version)
            entry = self._entries.get(key)
            if entry is None or entry.candidates is not candidates:
                return None
            self._entries.move_to_end(key)
            return entry.index

    def count_ready(
        self, version: int, segments: list[Segment], column: str, candidates: np.ndarray
    ) -> int:
        """How many of these segments have this filter's index ready."""
        return sum(self.find(version, s, column, candidates) is not None for s in segments)

    def count_use(
        self,
        version: int,
        segment: Segment,
        column: str,
        candidates: np.ndarray,
        make_build: Callable[[], FilterBuild | None],
    ) -> None:
        """One more selector search of the segment with this filter. At the threshold,
        `make_build` says what to build (None: not worth it) and the builder thread builds it."""
        key = (id(candidates), segment.id, column)
        with self._lock:
            self._at(version)
            if key in self._building or key in self._entries or key in self._declined:
                return
            if len(self._uses) >= _MAX_USE_COUNTS:
                self._uses.clear()
            uses = self._uses.get(key, 0) + 1
            self._uses[key] = uses
            if uses < BUILD_AFTER_USES:
                return
            self._building.add(key)
        build = make_build()
        if build is None:
            with self._lock:
                self._building.discard(key)
                self._declined.add(key)
            return
        build.submit(lambda: self._build(version, key, build))

    def _build(self, version: int, key: Key, build: FilterBuild) -> None:
        try:
            index = build.run()
        finally:
            with self._lock:
                self._building.discard(key)
        nbytes = build.nbytes()
        with self._lock:
            if version != self._version or nbytes > build.budget:
                return  # the rows changed while it was built (its filter is gone), or too big
            while self._entries and self._bytes + nbytes > build.budget:
                dropped_key, dropped = self._entries.popitem(last=False)
                self._bytes -= dropped.nbytes
                # Not built again in this version: filters taking turns would rebuild forever.
                self._declined.add(dropped_key)
            self._entries[key] = _Entry(build.candidates, index, nbytes)
            self._bytes += nbytes

    def _at(self, version: int) -> None:
        if version != self._version:
            self._entries.clear()
            self._uses.clear()
            self._declined.clear()
            self._bytes = 0
            self._version = version


@dataclass
class FilterBuild:
    """What building one filter index takes; `run` is called on the builder thread."""

    candidates: np.ndarray  # the filter's matching rows (its identity in the cache)
    definition: IndexDef  # the segment's index: the filter index is of the same kind
    vectors: np.ndarray  # the rows' vectors (a snapshot view: sealed rows never change)
    positions: np.ndarray  # the segment's allowed rows
    ids: np.ndarray  # their ids: the index's labels
    budget: int  # bytes all filter indexes of the collection may hold
    submit: Submit

    def run(self) -> BuiltIndex:
        return build(self.definition, self.vectors[self.positions], self.ids)

    def nbytes(self) -> int:
        """Vectors, ids and the layer-0 graph (2m int32 links a row); upper layers are few."""
        links = 2 * int(self.definition.params.get("m", 16)) * 4
        return len(self.positions) * (self.vectors.shape[1] * 4 + 8 + links)


def wanted(definition: IndexDef, allowed_in_segment: int) -> bool:
    """Whether a filter index of this kind over this many rows is worth building: HNSW, whose
    selector search walks the rows it then drops, over enough rows to be slow."""
    return definition.type == "hnsw" and not definition.binary and allowed_in_segment >= MIN_ROWS


def budget(vectors: np.ndarray) -> int:
    return max(MIN_BUDGET, int(BUDGET_SHARE * vectors.nbytes))
