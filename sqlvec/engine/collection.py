"""A collection in memory: rows, partitions, and each partition's segments.

New rows land in their partition's growing segment, searched exactly. When it reaches the
collection's `segment_rows` it is sealed: its rows are fixed and, when the vector column has an
index, an index is built for it (in the background worker, or at once by CREATE INDEX). A
sealed segment without a ready index - still building, too few rows to train, or a torn file
being rebuilt - is searched exactly.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sqlvec.engine.catalog import CollectionSpec
from sqlvec.engine.filter_indexes import FilterIndexes, Submit
from sqlvec.engine.index_types import IndexDef
from sqlvec.engine.rows import CollectionRows, GrowableArray
from sqlvec.engine.rwlock import ReadWriteLock
from sqlvec.engine.vector_index import BuiltIndex
from sqlvec.errors import UndefinedObject

if TYPE_CHECKING:  # compiled_topk.py reads collections
    from sqlvec.engine.compiled_topk import CompiledTopK

DEFAULT_SEGMENT_ROWS = 1_000_000


@dataclass
class Segment:
    id: int
    partition: str
    positions: np.ndarray  # where its rows are in the collection's rows
    ids: np.ndarray  # the rows' ids: the labels of its indexes
    ids_file: str = ""
    indexes: dict[str, BuiltIndex] = field(default_factory=dict)  # column -> ready index
    index_files: dict[str, str] = field(default_factory=dict)  # column -> file name
    building: set[str] = field(default_factory=set)  # columns whose index is being built
    # Ids in its indexes whose rows are deleted: searches exclude them (Faiss ID selector).
    deleted_ids: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))

    def mark_deleted(self, positions: np.ndarray) -> int:
        """Record deletions among `positions` (sorted); returns how many were ours."""
        where = np.searchsorted(self.positions, positions)
        where = np.minimum(where, max(len(self.positions) - 1, 0))
        ours = (
            positions[self.positions[where] == positions] if len(self.positions) else positions[:0]
        )
        if len(ours):
            ids = self.ids[np.searchsorted(self.positions, ours)]
            self.deleted_ids = np.union1d(self.deleted_ids, ids)
        return len(ours)

    @property
    def state(self) -> str:
        return "building" if self.building else "sealed"


@dataclass
class Partition:
    name: str
    code: int
    growing_id: int
    growing: GrowableArray = field(default_factory=lambda: GrowableArray(np.int64))
    sealed: list[Segment] = field(default_factory=list)  # replaced, never mutated in place

    def growing_positions(self) -> np.ndarray:
        return self.growing.view().copy()


class Collection:
    def __init__(self, spec: CollectionSpec, next_id: int) -> None:
        self.spec = spec
        self.rows = CollectionRows(spec)
        self.next_id = next_id
        self.partitions: dict[str, Partition] = {}
        self.indexes: dict[str, IndexDef] = {}  # vector column -> its index
        self._next_segment = 1
        # One writer at a time per collection: id assignment, the uniqueness check against
        # in-memory ids and segment sealing stay exact.
        self.write_lock = threading.RLock()
        # Searches read the row positions that compaction rewrites.
        self.layout_lock = ReadWriteLock()
        self.filter_indexes = FilterIndexes()
        self.background: Submit | None = None  # the engine's builder thread, for filter indexes
        # Prepared plain searches compiled against this layout (engine/compiled_topk.py).
        self.compiled_searches: dict[tuple[int, bool], CompiledTopK] = {}

    @property
    def segment_rows(self) -> int:
        return int(self.spec.options.get("segment_rows", DEFAULT_SEGMENT_ROWS))

    # partitions

    def partition(self, name: str) -> Partition:
        try:
            return self.partitions[name]
        except KeyError:
            raise UndefinedObject(
                f'partition "{name}" of collection "{self.spec.name}" does not exist'
            ) from None

    def add_partition(self, name: str, code: int) -> Partition:
        partition = Partition(name, code, self.new_segment_id())
        self.partitions[name] = partition
        return partition

    def next_partition_code(self) -> int:
        return max((p.code for p in self.partitions.values()), default=-1) + 1

    def partition_by_code(self) -> dict[int, Partition]:
        return {p.code: p for p in self.partitions.values()}

    def selected(self, names: list[str] | None) -> list[Partition]:
        """The partitions a search covers: the named ones, or all (the default included)."""
        if names is None:
            return list(self.partitions.values())
        return [self.partition(name) for name in dict.fromkeys(names)]

    # segments

    def new_segment_id(self) -> int:
        segment = self._next_segment
        self._next_segment += 1
        return segment

    def reserve_segment_ids(self, above: int) -> None:
        self._next_segment = max(self._next_segment, above + 1)

    def add_to_growing(self, partition: Partition, positions: np.ndarray) -> list[Segment]:
        """Put new rows in the growing segment; returns the segments this sealed."""
        partition.growing.append(positions)
        sealed = []
        while partition.growing.size >= self.segment_rows:
            sealed.append(self.seal(partition, self.segment_rows))
        return sealed

    def seal(self, partition: Partition, count: int | None = None) -> Segment:
        """Seal the first `count` growing rows (all by default) into a new segment."""
        growing = partition.growing.view()
        count = len(growing) if count is None else count
        positions, rest = growing[:count].copy(), growing[count:].copy()
        # Rows deleted while growing never enter the segment (nor its index).
        positions = positions[~self.rows.deleted_mask()[positions]]
        segment = Segment(
            partition.growing_id, partition.name, positions, self.rows.ids()[positions].copy()
        )
        partition.growing = GrowableArray(np.int64)
        partition.growing.append(rest)
        partition.growing_id = self.new_segment_id()
        partition.sealed = [*partition.sealed, segment]
        return segment

    def segment(self, segment_id: int) -> Segment | None:
        for partition in self.partitions.values():
            for segment in partition.sealed:
                if segment.id == segment_id:
                    return segment
        return None

    def all_segments(self) -> list[Segment]:
        return [s for p in self.partitions.values() for s in p.sealed]

    def is_current(self, segment: Segment) -> bool:
        partition = self.partitions.get(segment.partition)
        return partition is not None and any(s is segment for s in partition.sealed)

    def rebuild_layout(self, rows: CollectionRows, moved: np.ndarray) -> None:
        """After compaction: the same segments over the new positions of their live rows."""
        self.rows = rows
        self.filter_indexes = FilterIndexes()  # built over the old positions
        for partition in self.partitions.values():
            growing = moved[partition.growing.view()]
            partition.growing = GrowableArray(np.int64)
            partition.growing.append(growing[growing >= 0])
            sealed = []
            for segment in partition.sealed:
                positions = moved[segment.positions]
                kept = positions >= 0
                sealed.append(
                    Segment(
                        segment.id,
                        segment.partition,
                        positions[kept],
                        segment.ids[kept],
                        segment.ids_file,
                        dict(segment.indexes),
                        dict(segment.index_files),
                    )
                )
            partition.sealed = sealed
