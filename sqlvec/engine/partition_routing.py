"""Inserting into a collection with a partition key: each row to its key's partition."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from sqlvec.engine.catalog import CollectionSpec
from sqlvec.engine.collection import Collection, Partition, Segment
from sqlvec.engine.partition_key import key_column, key_partition, num_partitions
from sqlvec.engine.store import DEFAULT_PARTITION
from sqlvec.engine.writes import ColumnValues, as_list
from sqlvec.errors import FeatureNotSupported


def no_user_partitions(spec: CollectionSpec) -> None:
    """Milvus: with a partition key, the key places rows; partitions can't be named."""
    if key_column(spec):
        raise FeatureNotSupported(
            f'collection "{spec.name}" has a partition key: its partitions are chosen by the '
            "key, not named",
            hint=f'Filter on "{key_column(spec)}" instead.',
        )


def key_partitions(
    collection: Collection, values: Mapping[str, ColumnValues], count: int
) -> list[Partition] | None:
    """Each row's partition by its key value (NULL: the default); None without a key."""
    key = key_column(collection.spec)
    if key is None:
        return None
    keys = as_list(values[key]) if key in values else [None] * count
    total = num_partitions(collection.spec)
    return [collection.partition(key_partition(v, total) or DEFAULT_PARTITION) for v in keys]


def add_by_partition(
    collection: Collection, partitions: list[Partition], positions: np.ndarray
) -> list[Segment]:
    """Put new rows in their partitions' growing segments; returns the segments sealed."""
    codes = np.array([p.code for p in partitions])
    sealed: list[Segment] = []
    for partition in {p.code: p for p in partitions}.values():
        sealed += collection.add_to_growing(partition, positions[codes == partition.code])
    return sealed
