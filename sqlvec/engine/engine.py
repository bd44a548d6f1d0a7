"""The engine facade: collections (catalog + DuckDB rows + in-memory search copy) and SQL."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from sqlvec.engine.catalog import CollectionSpec, ColumnSpec
from sqlvec.engine.coerce import coercer
from sqlvec.engine.duckdb_errors import translate
from sqlvec.engine.duckdb_types import pg_type_of, value_converter
from sqlvec.engine.rows import CollectionRows
from sqlvec.engine.search import knn, pairwise
from sqlvec.engine.store import Store, vectors_from_arrow
from sqlvec.errors import (
    DuplicateColumn,
    DuplicateTable,
    NotNullViolation,
    UndefinedColumn,
    UndefinedTable,
    UniqueViolation,
)
from sqlvec.types import BOOL, FLOAT4, FLOAT8, INT2, INT4, INT8, PgType

log = logging.getLogger("sqlvec.engine")

_ARROW_TYPES = {
    BOOL.oid: pa.bool_(),
    INT2.oid: pa.int16(),
    INT4.oid: pa.int32(),
    INT8.oid: pa.int64(),
    FLOAT4.oid: pa.float32(),
    FLOAT8.oid: pa.float64(),
}


@dataclass(frozen=True)
class SqlResult:
    """Rows of a scalar SQL statement run by DuckDB."""

    columns: list[tuple[str, PgType, int]]  # (name, type, typmod)
    rows: list[tuple[Any, ...]]
    rowcount: int = -1


class Collection:
    def __init__(self, spec: CollectionSpec, next_id: int) -> None:
        self.spec = spec
        self.rows = CollectionRows(spec)
        self.next_id = next_id
        # One writer at a time per collection: id assignment and the uniqueness check against
        # the in-memory ids stay exact without relying on DuckDB's optimistic conflicts.
        self.write_lock = threading.Lock()


class Engine:
    def __init__(self, data_dir: Path) -> None:
        self.store = Store(data_dir)
        self._collections: dict[str, Collection] = {}
        self._ddl_lock = threading.Lock()
        # Bumped by every DDL statement: cached plans of an older version are planned again.
        self.catalog_version = 0
        for spec, next_id in self.store.load_specs():
            self._collections[spec.name] = self._load(spec, next_id)

    def close(self) -> None:
        self.store.close()

    # catalog

    def collection_names(self) -> list[str]:
        return sorted(self._collections)

    def has_collection(self, name: str) -> bool:
        return name in self._collections

    def spec(self, name: str) -> CollectionSpec:
        return self._collection(name).spec

    def create_collection(self, spec: CollectionSpec, if_not_exists: bool = False) -> bool:
        """Create a collection; False when it exists and IF NOT EXISTS was given."""
        with self._ddl_lock:
            if spec.name in self._collections or self._is_duckdb_table(spec.name):
                if if_not_exists:
                    return False
                raise DuplicateTable(f'relation "{spec.name}" already exists')
            self.store.create_collection(spec)
            self._collections[spec.name] = Collection(spec, 1)
            self.catalog_version += 1
            return True

    def drop_collection(self, name: str, if_exists: bool = False) -> bool:
        with self._ddl_lock:
            if name not in self._collections:
                if if_exists:
                    return False
                raise UndefinedTable(f'table "{name}" does not exist')
            self.store.drop_collection(name)
            del self._collections[name]
            self.catalog_version += 1
            return True

    # data

    def insert(
        self, name: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> np.ndarray:
        """Insert rows (values in `columns` order); returns their positions, once committed."""
        collection = self._collection(name)
        spec = collection.spec
        targets = _target_columns(spec, columns)
        values = _coerced_columns(spec, targets, rows)
        id_name = spec.id_column.name
        with collection.write_lock:
            ids = self._assign_ids(collection, values.get(id_name), len(rows))
            values[id_name] = ids.tolist()
            table = _arrow_table(spec, values)
            next_id = max(collection.next_id, int(ids.max()) + 1 if len(ids) else 1)
            self.store.insert(spec, table, next_id)
            collection.next_id = next_id
            scalars = {
                c.name: values.get(c.name, [None] * len(ids))
                for c in spec.columns
                if not c.is_vector and not c.primary_key
            }
            vectors = {c.name: np.stack(values[c.name]) for c in spec.vector_columns}
            return collection.rows.append(ids, scalars, vectors)

    def search(
        self,
        name: str,
        column: str,
        query: np.ndarray,
        k: int,
        metric: str,
        *,
        descending: bool = False,
        candidates: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-k: (positions, distances); `candidates` restricts to those positions."""
        rows = self._collection(name).rows
        snapshot = rows.snapshot()
        vectors = snapshot.vectors[column]
        if candidates is not None:
            found, distances = knn(vectors[candidates], query, k, metric, descending=descending)
            return candidates[found], distances
        return knn(
            vectors,
            query,
            k,
            metric,
            descending=descending,
            normalized=lambda: rows.normalized(column, snapshot.size),
        )

    def distances(
        self, name: str, column: str, positions: np.ndarray, query: np.ndarray, metric: str
    ) -> np.ndarray:
        vectors = self._collection(name).rows.snapshot().vectors[column]
        return pairwise(vectors[positions], query, metric)

    def take(self, name: str, positions: np.ndarray, column: str) -> list[Any]:
        return self._collection(name).rows.take(positions, column)

    def positions_of(self, name: str, ids: Sequence[int]) -> np.ndarray:
        return self._collection(name).rows.positions_of(ids)

    def row_count(self, name: str) -> int:
        return len(self._collection(name).rows)

    # scalar SQL

    def run_sql(self, sql: str, params: Sequence[Any]) -> SqlResult:
        try:
            description, rows = self.store.query(sql, params)
        except duckdb.Error as exc:
            raise translate(exc) from exc
        columns = [(name, *pg_type_of(kind)) for name, kind in description]
        converters = [value_converter(pg_type) for _, pg_type, _ in columns]
        if any(c is not _identity for c in converters):
            rows = [tuple(f(v) for f, v in zip(converters, row, strict=True)) for row in rows]
        return SqlResult(columns, rows)

    def describe_sql(self, sql: str) -> list[tuple[str, PgType, int]]:
        try:
            description = self.store.describe(sql)
        except duckdb.Error as exc:
            raise translate(exc) from exc
        return [(name, *pg_type_of(kind)) for name, kind in description]

    # internals

    def _collection(self, name: str) -> Collection:
        try:
            return self._collections[name]
        except KeyError:
            raise UndefinedTable(f'relation "{name}" does not exist') from None

    def _is_duckdb_table(self, name: str) -> bool:
        rows = self.store.query(
            "SELECT 1 FROM information_schema.tables WHERE table_name = ?", [name]
        )[1]
        return bool(rows)

    def _assign_ids(
        self, collection: Collection, given: list[Any] | None, count: int
    ) -> np.ndarray:
        spec = collection.spec
        id_column = spec.id_column
        if given is None or all(v is None for v in given):
            if not id_column.generated:
                raise _null_violation(spec, id_column)
            start = collection.next_id
            return np.arange(start, start + count, dtype=np.int64)
        if any(v is None for v in given):
            raise _null_violation(spec, id_column)
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

    def _load(self, spec: CollectionSpec, next_id: int) -> Collection:
        collection = Collection(spec, next_id)
        table = self.store.load_rows(spec)
        if table.num_rows:
            ids = table.column(spec.id_column.name).to_numpy().astype(np.int64)
            scalars = {
                c.name: table.column(c.name).to_pylist()
                for c in spec.columns
                if not c.is_vector and not c.primary_key
            }
            vectors = {
                c.name: vectors_from_arrow(table.column(c.name), c.dim or 0)
                for c in spec.vector_columns
            }
            collection.rows.append(ids, scalars, vectors)
        log.info("loaded collection %s: %d rows", spec.name, table.num_rows)
        return collection


def _identity(value: Any) -> Any:
    return value


def _target_columns(spec: CollectionSpec, columns: Sequence[str]) -> list[ColumnSpec]:
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


def _coerced_columns(
    spec: CollectionSpec, targets: list[ColumnSpec], rows: Sequence[Sequence[Any]]
) -> dict[str, list[Any]]:
    """Column-major, coerced values; missing non-id columns become NULL where allowed."""
    values: dict[str, list[Any]] = {}
    for index, column in enumerate(targets):
        convert = coercer(column)
        converted: list[Any] = []
        for row in rows:
            value = row[index]
            if value is None:
                if column.not_null and not column.primary_key:
                    raise _null_violation(spec, column)
                converted.append(None)
            else:
                converted.append(convert(value))
        values[column.name] = converted
    for column in spec.columns:
        if column.name not in values and column.not_null and not column.primary_key:
            raise _null_violation(spec, column)
    return values


def _arrow_table(spec: CollectionSpec, values: dict[str, list[Any]]) -> pa.Table:
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
            arrow_type = _ARROW_TYPES.get(column.type.oid, pa.string())
            arrays[column.name] = pa.array(values[column.name], type=arrow_type)
    return pa.table(arrays)


def _null_violation(spec: CollectionSpec, column: ColumnSpec) -> NotNullViolation:
    return NotNullViolation(
        f'null value in column "{column.name}" of relation "{spec.name}" violates not-null '
        "constraint"
    )
