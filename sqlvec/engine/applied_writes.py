"""Committed writes applied to a collection's in-memory copy (after DuckDB has them).

Called by `Engine` for a statement that commits on its own, and by a transaction block's
COMMIT for each write it logged: both change memory the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sqlvec.engine.collection import Collection
from sqlvec.engine.indexing import SegmentIndexing
from sqlvec.engine.partition_routing import add_by_partition


def place_rows(
    collection: Collection,
    indexing: SegmentIndexing,
    ids: np.ndarray,
    scalars: Mapping[str, Sequence[Any]],
    vectors: Mapping[str, np.ndarray],
    partition: str | tuple[str, ...],
) -> np.ndarray:
    """New rows into memory and their partitions' growing segments: one partition named, or
    (partition key) one per row; segments that fill up are sealed and indexed in the
    background. Returns the rows' positions."""
    if isinstance(partition, str):
        target = collection.partition(partition)
        positions = collection.rows.append(ids, scalars, vectors, target.code)
        sealed = collection.add_to_growing(target, positions)
    else:
        keyed = [collection.partition(name) for name in partition]
        codes = np.array([p.code for p in keyed], np.int16)
        positions = collection.rows.append(ids, scalars, vectors, codes)
        sealed = add_by_partition(collection, keyed, positions)
    indexing.sealed(collection, sealed, background=True)
    return positions


def forget_rows(collection: Collection, ids: Sequence[int]) -> None:
    """Tombstone deleted rows in memory and in every segment's index."""
    positions = collection.rows.lookup(ids)
    positions = np.unique(positions[positions >= 0])
    collection.rows.delete(positions)
    for segment in collection.all_segments():
        segment.mark_deleted(positions)


def set_values(collection: Collection, ids: Sequence[int], values: dict[str, list[Any]]) -> None:
    """New values of scalar columns, in `ids` order (rows deleted meanwhile are skipped)."""
    positions = collection.rows.lookup(ids)
    live = positions >= 0
    for column_name, column_values in values.items():
        kept = [v for v, k in zip(column_values, live.tolist(), strict=True) if k]
        collection.rows.update(positions[live], column_name, kept)
