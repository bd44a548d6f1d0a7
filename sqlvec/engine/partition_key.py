"""Milvus' partition key: rows hashed by one column's value into hidden partitions.

A collection created `WITH (partition_key = 'tenant', num_partitions = 16)` has partitions
`_default_0` ... `_default_15` (Milvus' names) besides the empty `_default`. A row goes to
partition `crc32(key) % num_partitions`, where key is the value's UTF-8 bytes for a text key
and its 8-byte little-endian two's complement for an integer key: a stable hash, the same in
every process and release. A NULL key goes to `_default`. A search whose WHERE fixes the key
(`tenant = 'x'`, `tenant IN ('x', 'y')`) searches only the partitions those values hash to.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import Any

from sqlvec.engine.catalog import CollectionSpec

KEY_OPTION = "partition_key"
COUNT_OPTION = "num_partitions"
DEFAULT_NUM_PARTITIONS = 16  # Milvus' default
NUM_PARTITIONS_RANGE = (1, 1024)  # Milvus' limit on partitions per collection


def key_column(spec: CollectionSpec) -> str | None:
    key = spec.options.get(KEY_OPTION)
    return str(key) if key else None


def num_partitions(spec: CollectionSpec) -> int:
    return int(spec.options.get(COUNT_OPTION, DEFAULT_NUM_PARTITIONS))


def key_partition_names(spec: CollectionSpec) -> list[str]:
    return [partition_name(i) for i in range(num_partitions(spec))]


def partition_name(number: int) -> str:
    return f"_default_{number}"


def key_partition(value: Any, count: int) -> str | None:
    """The hidden partition of a key value; None for NULL."""
    if value is None:
        return None
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        data = value.to_bytes(8, "little", signed=True)
    else:
        data = str(value).encode()
    return partition_name(zlib.crc32(data) % count)


def pruned_partitions(spec: CollectionSpec, values: Iterable[Any]) -> list[str]:
    """The partitions that can hold rows whose key is one of `values` (sorted, no NULLs)."""
    count = num_partitions(spec)
    names = {key_partition(v, count) for v in values}
    return sorted((n for n in names if n is not None), key=lambda n: int(n.rsplit("_", 1)[1]))


def searched_partitions(engine: Any, plan: Any, params: Any) -> list[str] | None:
    """The partitions a search plan covers: PARTITION (...), those its partition key values
    hash to (that exist), or None for all."""
    if plan.key_values is None:
        return list(plan.partitions) if plan.partitions is not None else None
    collection = engine.collection(plan.collection)
    key = collection.spec.column(key_column(collection.spec))
    integer = key.type.duckdb in ("SMALLINT", "INTEGER", "BIGINT")
    values = [value(params) for value in plan.key_values]
    values = [None if v is None else int(v) if integer else str(v) for v in values]
    return [p for p in pruned_partitions(collection.spec, values) if p in collection.partitions]
