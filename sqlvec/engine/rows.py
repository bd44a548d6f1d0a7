"""The in-memory copy of a collection's rows that the search hot path reads.

DuckDB stays the durable copy and the engine for scalar SQL; fetching a kNN result's columns
from DuckDB costs 0.6-1 ms per query, so searches read ids, vectors and scalar columns from
here (a take of 10 rows is microseconds). Appends happen after the DuckDB commit, under a lock;
readers take a snapshot (arrays up to the current row count) and never see a half-appended
row.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sqlvec.engine.catalog import CollectionSpec
from sqlvec.engine.derived_cache import DerivedCache
from sqlvec.engine.scalar_columns import ScalarArrays, ScalarColumn
from sqlvec.vector_kinds import kind_of

_BULK_LOOKUP = 64  # ids at which a vectorised lookup beats dictionary lookups


class GrowableArray:
    """A numpy array with amortised O(1) appends; views of old buffers stay valid."""

    def __init__(self, dtype: type, width: int | None = None) -> None:
        self._width = width
        shape = (16, width) if width else (16,)
        self._buffer: np.ndarray = np.zeros(shape, dtype=dtype)
        self.size = 0

    def append(self, block: np.ndarray) -> None:
        if self.size == 0 and self._adoptable(block):
            # The first block of a bulk load becomes the buffer as it is: copying 300 MiB into
            # fresh memory cost up to 0.9 s of page faults on a VM, half a COPY's time.
            self._buffer = block
            self.size = len(block)
            return
        needed = self.size + len(block)
        if needed > len(self._buffer):
            capacity = max(needed, 2 * len(self._buffer))
            grown = np.zeros((capacity, *self._buffer.shape[1:]), dtype=self._buffer.dtype)
            grown[: self.size] = self._buffer[: self.size]
            self._buffer = grown
        self._buffer[self.size : needed] = block
        self.size = needed

    def _adoptable(self, block: np.ndarray) -> bool:
        """A block that owns its memory (not a view of a larger array or of received bytes),
        is writable and has this array's dtype and row shape. Callers hand blocks over: none
        changes an array after appending it."""
        return (
            len(block) > 0
            and block.base is None
            and block.flags.writeable
            and block.flags.c_contiguous
            and block.dtype == self._buffer.dtype
            and block.shape[1:] == self._buffer.shape[1:]
        )

    def view(self, size: int | None = None) -> np.ndarray:
        return self._buffer[: self.size if size is None else size]


@dataclass(frozen=True)
class Snapshot:
    """What a reader sees: the first `size` rows, stable while appends go on."""

    size: int
    ids: np.ndarray
    vectors: dict[str, np.ndarray]


class DenseIdTable:
    """Position of each id by direct indexing, while ids are small non-negative integers
    (generated ids, or ids given as 0..n): a kNN result's 10 ids map to positions with one
    numpy take instead of 10 dictionary lookups. Turned off for good (until COMPACT) by an id
    that would make the table much larger than the rows."""

    SLACK = 4  # the table may be this many times the rows (plus a floor) before it is given up
    FLOOR = 1 << 16

    def __init__(self) -> None:
        self._table: np.ndarray | None = np.full(0, -1, dtype=np.int64)
        self._rows = 0

    def add(self, ids: np.ndarray, start: int) -> None:
        if self._table is None or len(ids) == 0:
            return
        self._rows += len(ids)
        low, high = int(ids.min()), int(ids.max())
        if low < 0 or high >= self.SLACK * self._rows + self.FLOOR:
            self._table = None
            return
        if high >= len(self._table):
            grown = np.full(max(high + 1, 2 * len(self._table)), -1, dtype=np.int64)
            grown[: len(self._table)] = self._table
            self._table = grown
        self._table[ids] = np.arange(start, start + len(ids), dtype=np.int64)

    def remove(self, ids: np.ndarray) -> None:
        if self._table is not None and len(ids):
            self._table[ids] = -1

    def positions_list(self, ids: np.ndarray, listed: list[int]) -> list[int] | None:
        """`lookup` of a few ids (`listed`: the same as a list) as a list, or None when the
        table is off or an id lies outside it: a search's answer, ranked in Python."""
        table = self._table
        if table is None or not listed or min(listed) < 0 or max(listed) >= len(table):
            return None
        return table[ids].tolist()  # type: ignore[no-any-return]

    def lookup(self, ids: Sequence[int] | np.ndarray) -> np.ndarray | None:
        """Positions (-1 for unknown ids), or None when the table is off."""
        table = self._table
        if table is None:
            return None
        wanted = np.asarray(ids, dtype=np.int64)
        inside = (wanted >= 0) & (wanted < len(table))
        if inside.all():
            return table[wanted]
        if len(table) == 0:
            return np.full(len(wanted), -1, dtype=np.int64)
        return np.where(inside, table[np.where(inside, wanted, 0)], -1)


class CollectionRows:
    def __init__(self, spec: CollectionSpec) -> None:
        self.spec = spec
        self._lock = threading.Lock()
        self._ids = GrowableArray(np.int64)
        self._vectors = {c.name: GrowableArray(np.float32, c.dim) for c in spec.vector_columns}
        self._from_row = {c.name: kind_of(c.type).from_row for c in spec.vector_columns}
        self._normalized: dict[str, GrowableArray] = {}
        self._scalars: dict[str, list[Any]] = {
            c.name: [] for c in spec.columns if not c.is_vector and not c.primary_key
        }
        self._position_of: dict[int, int] = {}
        self._dense = DenseIdTable()
        self._partition = GrowableArray(np.int16)  # partition code of each row
        self._deleted = GrowableArray(np.bool_)
        self.deleted_count = 0
        self._sorted: tuple[tuple[int, int], np.ndarray, np.ndarray] | None = None
        self._arrays = ScalarArrays()
        # Bumped by every change of the rows: what `derived` keeps is valid for one version.
        self.version = 0
        self.derived = DerivedCache()

    def __len__(self) -> int:
        return self._ids.size

    @property
    def live_count(self) -> int:
        return self._ids.size - self.deleted_count

    def append(
        self,
        ids: np.ndarray,
        scalars: Mapping[str, Sequence[Any]],
        vectors: Mapping[str, np.ndarray],
        partition: int | np.ndarray = 0,
    ) -> np.ndarray:
        """Append committed rows (of one partition, or one code per row); their positions.
        The arrays are handed over: the first append to empty rows may keep them as they are."""
        with self._lock:
            start = self._ids.size
            self._partition.append(np.broadcast_to(np.asarray(partition, np.int16), (len(ids),)))
            self._deleted.append(np.zeros(len(ids), dtype=np.bool_))
            for name, values in scalars.items():
                self._scalars[name].extend(values)
            for name, matrix in vectors.items():
                self._vectors[name].append(matrix)
                if name in self._normalized:
                    self._normalized[name].append(normalize_rows(matrix))
            self._ids.append(ids)
            self._position_of.update(zip(ids.tolist(), range(start, start + len(ids)), strict=True))
            self._dense.add(ids, start)
            self.version += 1
            return np.arange(start, start + len(ids), dtype=np.int64)

    def snapshot(self) -> Snapshot:
        with self._lock:
            size = self._ids.size
            vectors = {name: array.view(size) for name, array in self._vectors.items()}
            return Snapshot(size, self._ids.view(size), vectors)

    def normalized(self, column: str, size: int) -> np.ndarray:
        """Unit-length copies of a vector column, built on first cosine search, then kept."""
        with self._lock:
            if column not in self._normalized:
                array = GrowableArray(np.float32, self._vectors[column].view().shape[1])
                array.append(normalize_rows(self._vectors[column].view()))
                self._normalized[column] = array
            return self._normalized[column].view(size)

    def lookup(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Position of each id, -1 where there is no live row with that id."""
        dense = self._dense.lookup(ids)
        if dense is not None:
            return dense
        if len(ids) < _BULK_LOOKUP:
            return np.array([self._position_of.get(int(i), -1) for i in ids], dtype=np.int64)
        wanted = np.asarray(ids, dtype=np.int64)
        sorted_ids, order = self._id_index()
        where = np.searchsorted(sorted_ids, wanted)
        where = np.minimum(where, max(len(sorted_ids) - 1, 0))
        found = (sorted_ids[where] == wanted) if len(sorted_ids) else np.zeros(len(wanted), bool)
        return np.where(found, order[where] if len(order) else -1, -1).astype(np.int64)

    def few_positions(self, ids: np.ndarray, listed: list[int]) -> list[int] | None:
        """Positions of a few ids (`listed`: the same as a list) by the dense id table, -1
        where a row is gone; None where the table cannot say (use `lookup`)."""
        return self._dense.positions_list(ids, listed)

    def positions_of(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Positions of the given ids that exist, in the order given."""
        positions = self.lookup(ids)
        return positions[positions >= 0]

    def _id_index(self) -> tuple[np.ndarray, np.ndarray]:
        """Live ids sorted, with their positions: bulk lookups by binary search. Rebuilt after
        appends and deletes, on the next bulk lookup only."""
        with self._lock:
            key = (self._ids.size, self.deleted_count)
            if self._sorted is None or self._sorted[0] != key:
                live = np.flatnonzero(~self._deleted.view())
                ids = self._ids.view()[live]
                order = np.argsort(ids, kind="stable")
                self._sorted = (key, ids[order], live[order])
            return self._sorted[1], self._sorted[2]

    def take(self, positions: np.ndarray, column: str) -> list[Any]:
        """Values of one column at the given positions."""
        if column == self.spec.id_column.name:
            return self._ids.view()[positions].tolist()
        if column in self._vectors:
            matrix = self._vectors[column].view()
            from_row = self._from_row[column]
            return [from_row(matrix[p]) for p in positions.tolist()]
        values = self._scalars[column]
        return [values[p] for p in positions.tolist()]

    def scalar_column(self, column: str, size: int, text: bool) -> ScalarColumn:
        """The first `size` values of a scalar column as numpy arrays (predicates in memory)."""
        return self._arrays.column(column, self._scalars[column], size, text)

    def contains_id(self, row_id: int) -> bool:
        return row_id in self._position_of

    def delete(self, positions: np.ndarray) -> None:
        """Tombstone rows: searches skip them, their ids may be inserted again."""
        with self._lock:
            deleted = self._deleted.view()
            fresh = positions[~deleted[positions]]
            deleted[fresh] = True
            ids = self._ids.view()[fresh].tolist()
            for row_id in ids:
                self._position_of.pop(row_id, None)
            self._dense.remove(np.asarray(ids, dtype=np.int64))
            self.deleted_count += len(fresh)
            self.version += 1

    def update(self, positions: np.ndarray, column: str, values: Sequence[Any]) -> None:
        """New values of a scalar column (vectors and ids are never updated in place)."""
        with self._lock:
            target = self._scalars[column]
            for position, value in zip(positions.tolist(), values, strict=True):
                target[position] = value
            self._arrays.forget(column)
            self.version += 1

    def deleted_mask(self, size: int | None = None) -> np.ndarray:
        return self._deleted.view(size)

    def partition_codes(self, size: int | None = None) -> np.ndarray:
        return self._partition.view(size)

    def ids(self, size: int | None = None) -> np.ndarray:
        return self._ids.view(size)

    def compacted(self) -> tuple[CollectionRows, np.ndarray]:
        """A copy without deleted rows, and each old position's new one (-1 when dropped)."""
        with self._lock:
            size = self._ids.size
            keep = ~self._deleted.view(size)
            moved = np.full(size, -1, dtype=np.int64)
            moved[keep] = np.arange(int(keep.sum()), dtype=np.int64)
            fresh = CollectionRows(self.spec)
            kept = np.flatnonzero(keep)
            scalars = {
                name: [values[p] for p in kept.tolist()] for name, values in self._scalars.items()
            }
            vectors = {name: array.view(size)[keep] for name, array in self._vectors.items()}
            codes = self._partition.view(size)[keep]
            fresh.append(self._ids.view(size)[keep], scalars, vectors, codes)
            return fresh, moved


def normalize_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length; zero rows stay zero (their cosine distance is NaN)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norms > 0, matrix / norms, 0).astype(np.float32)
