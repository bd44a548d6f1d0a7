"""The rows a WHERE clause lets one search see, and what the search derives from them.

A filtered search needs the matching rows that are live and in the searched partitions, the
fraction they are of those partitions (which picks the strategy), a mask over positions, their
ids and a Faiss ID selector over those ids. Each costs a pass over the rows; together more than
the filtered Faiss search on 100k rows. They are made once per matching-rows array (which
`row_filter` returns the same for the same WHERE clause and values) and kept in the rows'
`derived` cache until the rows change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sqlvec.engine.collection import Collection, Partition, Segment
from sqlvec.engine.derived_cache import frozen
from sqlvec.engine.vector_index import IdSet


@dataclass
class AllowedRows:
    candidates: np.ndarray  # the matching positions this was made from (the cache's identity)
    positions: np.ndarray  # live ones in the searched partitions
    selectivity: float  # their share of the searched partitions' live rows
    size: int  # rows in the snapshot searched
    _mask: np.ndarray | None = field(default=None, repr=False)
    _ids: IdSet | None = field(default=None, repr=False)

    @property
    def everything(self) -> bool:
        """Every live row of the searched partitions is allowed (a WHERE on the partition
        key): the plain search of those partitions is the same answer, cheaper."""
        return len(self.positions) > 0 and self.selectivity >= 1.0

    def mask(self) -> np.ndarray:
        """True at the allowed positions, over the snapshot's rows."""
        if self._mask is None:
            mask = np.zeros(self.size, dtype=bool)
            mask[self.positions] = True
            self._mask = frozen(mask)
        return self._mask

    def ids(self, all_ids: np.ndarray) -> IdSet:
        """The allowed rows' ids (given every row's id), with their Faiss selector."""
        if self._ids is None:
            self._ids = IdSet(frozen(all_ids[self.positions]))
        return self._ids


def allowed_rows(
    collection: Collection,
    candidates: np.ndarray,
    partitions: list[str] | None,
    deleted: np.ndarray,
    selected: list[Partition],
) -> AllowedRows:
    """The allowed rows of one search, from the cache when these candidates were seen."""
    rows = collection.rows
    version = rows.version
    key = ("allowed", id(candidates), None if partitions is None else tuple(partitions))
    cached = rows.derived.get(version, key)
    if _made_from(cached, candidates, len(deleted)):
        assert isinstance(cached, AllowedRows)
        return cached
    codes = rows.partition_codes(len(deleted))
    positions = frozen(live_positions(candidates, deleted, codes, selected))
    share = selectivity(collection, deleted, selected, positions)
    allowed = AllowedRows(candidates, positions, share, len(deleted))
    if not candidates.flags.writeable:
        # Only a shared (cached, read-only) matching-rows array comes again: one that DuckDB's
        # ids gave is new every time and would only fill the cache. The mask and the ids are
        # made later, if at all: counted in now.
        nbytes = candidates.nbytes + positions.nbytes * 2 + len(deleted)
        rows.derived.put(version, key, allowed, nbytes)
    return allowed


def _made_from(cached: object, candidates: np.ndarray, size: int) -> bool:
    # The key holds id(candidates): an entry for an array that was freed and whose id was
    # reused can't match, since the entry keeps its own array alive and compares identity.
    return (
        isinstance(cached, AllowedRows) and cached.candidates is candidates and cached.size == size
    )


def live_positions(
    positions: np.ndarray, deleted: np.ndarray, codes: np.ndarray, selected: list[Partition]
) -> np.ndarray:
    """The positions that are not deleted and lie in the selected partitions."""
    positions = positions[positions < len(deleted)]
    keep = ~deleted[positions]
    if len({p.code for p in selected}) < int(codes.max(initial=0)) + 1:
        keep &= np.isin(codes[positions], [p.code for p in selected])
    return positions[keep]


def selectivity(
    collection: Collection, deleted: np.ndarray, selected: list[Partition], allowed: np.ndarray
) -> float:
    """The fraction of the searched partitions' live rows that a WHERE clause allows."""
    if len(selected) == len(collection.partitions):
        live_rows = collection.rows.live_count
    else:
        live_rows = sum(int((~deleted[p.growing.view()]).sum()) for p in selected) + sum(
            live_count(s, deleted) for p in selected for s in p.sealed
        )
    return len(allowed) / max(live_rows, 1)


def live_count(segment: Segment, deleted: np.ndarray) -> int:
    return int((~deleted[segment.positions]).sum())
