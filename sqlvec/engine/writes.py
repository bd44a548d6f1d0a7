"""Rows on their way in: target columns, coercion, id assignment, the Arrow batch for DuckDB."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from sqlvec.engine.catalog import CollectionSpec, ColumnSpec
from sqlvec.engine.coerce import coercer
from sqlvec.engine.collection import Collection
from sqlvec.engine.vector_storage import to_arrow
from sqlvec.errors import DuplicateColumn, NotNullViolation, UndefinedColumn, UniqueViolation
from sqlvec.types import BOOL, FLOAT4, FLOAT8, INT2, INT4, INT8
from sqlvec.vector_kinds import kind_of

ARROW_TYPES = {
    BOOL.oid: pa.bool_(),
    INT2.oid: pa.int16(),
    INT4.oid: pa.int32(),
    INT8.oid: pa.int64(),
    FLOAT4.oid: pa.float32(),
    FLOAT8.oid: pa.float64(),
}


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
            to_row = kind_of(column.type).to_row
            matrix = np.stack([to_row(v) for v in values[column.name]])
            arrays[column.name] = to_arrow(column, matrix)
        else:
            arrow_type = ARROW_TYPES.get(column.type.oid, pa.string())
            arrays[column.name] = pa.array(values[column.name], type=arrow_type)
    return pa.table(arrays)


def null_violation(spec: CollectionSpec, column: ColumnSpec) -> NotNullViolation:
    return NotNullViolation(
        f'null value in column "{column.name}" of relation "{spec.name}" violates not-null '
        "constraint"
    )


# One column's values: a 1-D array (no NULLs) or a list (None for NULL); vectors: (n, d) float32.
ColumnValues = np.ndarray | Sequence[Any]


# Which of some ids rows already have (a transaction block asks DuckDB, which sees its writes).
ExistingIds = Callable[[np.ndarray], np.ndarray]


def first_duplicate(
    collection: Collection, ids: np.ndarray, existing: ExistingIds | None = None
) -> int | None:
    """Index of the first row whose id a live row or an earlier row of `ids` already has."""
    if len(ids) == 0:
        return None
    clashes = collection.rows.lookup(ids) >= 0 if existing is None else existing(ids)
    _, first = np.unique(ids, return_index=True)
    repeated = np.ones(len(ids), dtype=bool)
    repeated[first] = False
    bad = np.flatnonzero(clashes | repeated)
    return int(bad[0]) if len(bad) else None


def duplicate_error(spec: CollectionSpec, row_id: int) -> UniqueViolation:
    return UniqueViolation(
        f'duplicate key value violates unique constraint "{spec.name}_pkey"',
        detail=f"Key ({spec.id_column.name})=({row_id}) already exists.",
    )


def column_ids(
    collection: Collection,
    given: ColumnValues | None,
    count: int,
    existing: ExistingIds | None = None,
) -> np.ndarray:
    spec = collection.spec
    if given is None:
        if not spec.id_column.generated:
            raise null_violation(spec, spec.id_column)
        start = collection.next_id
        return np.arange(start, start + count, dtype=np.int64)
    if not isinstance(given, np.ndarray) and any(v is None for v in given):
        raise null_violation(spec, spec.id_column)
    ids = np.asarray(given, dtype=np.int64)
    clash = first_duplicate(collection, ids, existing)
    if clash is not None:
        raise duplicate_error(spec, int(ids[clash]))
    return ids


def columns_table(
    spec: CollectionSpec, values: Mapping[str, ColumnValues], ids: np.ndarray
) -> pa.Table:
    arrays: dict[str, pa.Array] = {}
    for column in spec.columns:
        if column.primary_key:
            arrays[column.name] = pa.array(ids, type=ARROW_TYPES.get(column.type.oid, pa.int64()))
        elif column.name not in values:
            continue
        elif column.is_vector:
            arrays[column.name] = to_arrow(column, np.asarray(values[column.name], np.float32))
        else:
            arrow_type = ARROW_TYPES.get(column.type.oid, pa.string())
            arrays[column.name] = pa.array(values[column.name], type=arrow_type)
    return pa.table(arrays)


def as_list(values: ColumnValues) -> list[Any]:
    return values.tolist() if isinstance(values, np.ndarray) else list(values)
