"""Rows on their way in: target columns, coercion, id assignment, the Arrow batch for DuckDB."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from sqlvec.engine.catalog import CollectionSpec, ColumnSpec
from sqlvec.engine.coerce import coercer
from sqlvec.engine.collection import Collection
from sqlvec.errors import DuplicateColumn, NotNullViolation, UndefinedColumn, UniqueViolation
from sqlvec.types import BOOL, FLOAT4, FLOAT8, INT2, INT4, INT8

ARROW_TYPES = {
    BOOL.oid: pa.bool_(),
    INT2.oid: pa.int16(),
    INT4.oid: pa.int32(),
    INT8.oid: pa.int64(),
    FLOAT4.oid: pa.float32(),
    FLOAT8.oid: pa.float64(),
}


def assign_ids(collection: Collection, given: list[Any] | None, count: int) -> np.ndarray:
    """Ids for new rows: the given ones, checked for clashes, or generated ones."""
    spec = collection.spec
    id_column = spec.id_column
    if given is None or all(v is None for v in given):
        if not id_column.generated:
            raise null_violation(spec, id_column)
        start = collection.next_id
        return np.arange(start, start + count, dtype=np.int64)
    if any(v is None for v in given):
        raise null_violation(spec, id_column)
    ids = np.array(given, dtype=np.int64)
    unique, counts = np.unique(ids, return_counts=True)
    repeated = unique[counts > 1]
    existing = [i for i in ids.tolist() if collection.rows.contains_id(i)]
    clash = existing[0] if existing else (int(repeated[0]) if len(repeated) else None)
    if clash is not None:
        raise UniqueViolation(
            f'duplicate key value violates unique constraint "{spec.name}_pkey"',
            detail=f"Key ({id_column.name})=({clash}) already exists.",
        )
    return ids


def target_columns(spec: CollectionSpec, columns: Sequence[str]) -> list[ColumnSpec]:
    seen: set[str] = set()
    targets = []
    for name in columns:
        if name in seen:
            raise DuplicateColumn(f'column "{name}" specified more than once')
        seen.add(name)
        if not spec.has_column(name):
            raise UndefinedColumn(f'column "{name}" of relation "{spec.name}" does not exist')
        targets.append(spec.column(name))
    return targets


def coerced_columns(
    spec: CollectionSpec,
    targets: list[ColumnSpec],
    rows: Sequence[Sequence[Any]],
    every_column: bool = True,
) -> dict[str, list[Any]]:
    """Column-major, coerced values; with `every_column`, the columns not given become NULL
    where that is allowed (an INSERT), otherwise they are left out (an UPDATE)."""
    values: dict[str, list[Any]] = {}
    for index, column in enumerate(targets):
        convert = coercer(column)
        converted: list[Any] = []
        for row in rows:
            value = row[index]
            if value is None:
                if column.not_null and not column.primary_key:
                    raise null_violation(spec, column)
                converted.append(None)
            else:
                converted.append(convert(value))
        values[column.name] = converted
    for column in spec.columns if every_column else ():
        if column.name not in values and column.not_null and not column.primary_key:
            raise null_violation(spec, column)
    return values


def arrow_table(spec: CollectionSpec, values: dict[str, list[Any]]) -> pa.Table:
    arrays = {}
    for column in spec.columns:
        if column.name not in values:
            continue
        if column.is_vector:
            matrix = np.stack(values[column.name]).astype(np.float32, copy=False)
            arrays[column.name] = pa.FixedSizeListArray.from_arrays(
                pa.array(matrix.ravel()), column.dim
            )
        else:
            arrow_type = ARROW_TYPES.get(column.type.oid, pa.string())
            arrays[column.name] = pa.array(values[column.name], type=arrow_type)
    return pa.table(arrays)


def null_violation(spec: CollectionSpec, column: ColumnSpec) -> NotNullViolation:
    return NotNullViolation(
        f'null value in column "{column.name}" of relation "{spec.name}" violates not-null '
        "constraint"
    )
