"""The engine facade: collections (catalog, DuckDB rows, in-memory copy, segments) and SQL."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from sqlvec.engine import maintenance
from sqlvec.engine.applied_writes import forget_rows, place_rows, set_values
from sqlvec.engine.batch_search import search_batch
from sqlvec.engine.builder import IndexBuilder
from sqlvec.engine.catalog import CollectionSpec
from sqlvec.engine.collection import Collection
from sqlvec.engine.duckdb_errors import translate
from sqlvec.engine.duckdb_types import pg_type_of, unchanged, value_converter
from sqlvec.engine.engine_blocks import BlockWrites
from sqlvec.engine.index_types import IndexDef
from sqlvec.engine.indexing import SegmentIndexing
from sqlvec.engine.partition_key import key_column, key_partition_names
from sqlvec.engine.partition_routing import key_partitions, no_user_partitions
from sqlvec.engine.pg_catalog import PgCatalog
from sqlvec.engine.range_search import RangeBound, range_search
from sqlvec.engine.search import pairwise
from sqlvec.engine.segment_files import SegmentFiles
from sqlvec.engine.segment_search import SearchRequest, SearchResult, search
from sqlvec.engine.store import DEFAULT_PARTITION, PARTITION_COLUMN, Store
from sqlvec.engine.transaction import (
    OpenTransactions,
    PendingDelete,
    PendingUpdate,
)
from sqlvec.engine.vector_storage import from_arrow, select_expression
from sqlvec.engine.writes import (
    ColumnValues,
    arrow_table,
    as_list,
    coerced_columns,
    column_ids,
    columns_table,
    null_violation,
    target_columns,
)
from sqlvec.errors import (
    DuplicateObject,
    DuplicateTable,
    FeatureNotSupported,
    ObjectInUse,
    UndefinedTable,
)
from sqlvec.types import PgType
from sqlvec.vector_kinds import kind_of

log = logging.getLogger("sqlvec.engine")


def duckdb_parameter(value: Any) -> Any:
    """A parameter as DuckDB binds it: lists, not numpy arrays (a vector, and each vector of a
    `vector[]` array such as `unnest($1::vector[])`)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, list) and any(isinstance(v, np.ndarray | list) for v in value):
        return [duckdb_parameter(v) for v in value]
    return value


@dataclass(frozen=True)
class SqlResult:
    """Rows of a scalar SQL statement run by DuckDB."""

    columns: list[tuple[str, PgType, int]]  # (name, type, typmod)
    rows: list[tuple[Any, ...]]


class Engine(BlockWrites):
    def __init__(self, data_dir: Path) -> None:
        self.store = Store(data_dir)
        self.builder = IndexBuilder()
        self.indexing = SegmentIndexing(self.store, SegmentFiles(data_dir), self.builder)
        self._collections: dict[str, Collection] = {}
        self._ddl_lock = threading.Lock()
        self._open = OpenTransactions()
        # Bumped by every DDL statement: cached plans of an older version are planned again.
        self.catalog_version = 0
        for spec, next_id in self.store.load_specs():
            self._collections[spec.name] = self._load(spec, next_id)
        # pg_catalog emulation: relations rebuilt from the collections after DDL.
        self.pg_catalog = PgCatalog(
            self.store.cursor,
            lambda: [(c.spec, dict(c.indexes)) for c in list(self._collections.values())],
        )

    def close(self) -> None:
        self.builder.close()
        self.store.close()

    # catalog

    def collection_names(self) -> list[str]:
        return sorted(self._collections)

    def has_collection(self, name: str) -> bool:
        return name in self._collections

    def spec(self, name: str) -> CollectionSpec:
        return self.collection(name).spec

    def collection(self, name: str) -> Collection:
        try:
            return self._collections[name]
        except KeyError:
            raise UndefinedTable(f'relation "{name}" does not exist') from None

    def create_collection(self, spec: CollectionSpec, if_not_exists: bool = False) -> bool:
        """Create a collection; False when it exists and IF NOT EXISTS was given."""
        with self._ddl_lock:
            if spec.name in self._collections or self._is_duckdb_table(spec.name):
                if if_not_exists:
                    return False
                raise DuplicateTable(f'relation "{spec.name}" already exists')
            self.store.create_collection(spec)
            collection = Collection(spec, 1)
            collection.background = self.builder.submit
            collection.add_partition(DEFAULT_PARTITION, 0)
            for code, tag in enumerate(key_partition_names(spec) if key_column(spec) else [], 1):
                self.store.add_partition(spec.name, tag, code)
                collection.add_partition(tag, code)
            self._collections[spec.name] = collection
            self.catalog_version += 1
            return True

    def drop_collection(self, name: str, if_exists: bool = False) -> bool:
        with self._ddl_lock:
            if name not in self._collections:
                if if_exists:
                    return False
                raise UndefinedTable(f'table "{name}" does not exist')
            self._check_not_in_use(name, f'table "{name}"')
            self.store.drop_collection(name)
            self.indexing.files.remove_collection(name)
            del self._collections[name]
            self.catalog_version += 1
            return True

    def create_partition(self, name: str, tag: str, if_not_exists: bool = False) -> bool:
        collection = self.collection(name)
        no_user_partitions(collection.spec)
        with collection.write_lock:
            if tag in collection.partitions:
                if if_not_exists:
                    return False
                raise DuplicateObject(f'partition "{tag}" of collection "{name}" already exists')
            code = collection.next_partition_code()
            self.store.add_partition(name, tag, code)
            collection.add_partition(tag, code)
            return True

    def drop_partition(self, name: str, tag: str, if_exists: bool = False) -> bool:
        collection = self.collection(name)
        no_user_partitions(collection.spec)
        with collection.write_lock:
            if tag not in collection.partitions:
                if if_exists:
                    return False
                collection.partition(tag)  # raises: it does not exist
            if tag == DEFAULT_PARTITION:
                raise FeatureNotSupported("the default partition cannot be dropped")
            # Under the write lock: no block can add a pending write to it meanwhile.
            self._check_not_in_use(name, f'partition "{tag}" of collection "{name}"')
            partition = collection.partitions[tag]
            self.store.delete_partition(collection.spec, tag)
            codes = collection.rows.partition_codes()
            collection.rows.delete(np.flatnonzero(codes == partition.code))
            for segment in partition.sealed:
                self.indexing.forget(collection, segment)
            del collection.partitions[tag]
            return True

    def _check_not_in_use(self, collection: str, what: str) -> None:
        """Refuse to drop what an open block has pending writes to: its COMMIT would write rows
        of a partition (or collection) that no longer exists."""
        if self._open.writing(collection):
            raise ObjectInUse(
                f"cannot drop {what} because it is being used by an open transaction",
                hint="COMMIT or ROLLBACK the transaction that wrote to it first.",
            )

    def partition_names(self, name: str) -> list[str]:
        return sorted(self.collection(name).partitions, key=lambda t: (t != DEFAULT_PARTITION, t))

    def create_index(self, name: str, definition: IndexDef) -> None:
        collection = self.collection(name)
        try:
            with collection.write_lock:
                self.indexing.create_index(collection, definition)
        finally:
            # Also when cancelled: the index it replaced is gone either way.
            self.catalog_version += 1

    def drop_index(self, index_name: str | None, collection_name: str | None) -> bool:
        """Drop an index by name, or every index of a collection; False when none matched."""
        targets = (
            [self.collection(collection_name)] if collection_name else self._collections.values()
        )
        dropped = False
        for collection in targets:
            with collection.write_lock:
                for column, definition in list(collection.indexes.items()):
                    if index_name is None or definition.name == index_name:
                        self.indexing.drop_index(collection, column)
                        dropped = True
        self.catalog_version += 1
        return dropped

    def index_names(self) -> set[str]:
        return {d.name for c in self._collections.values() for d in c.indexes.values()}

    # data

    def insert(
        self,
        name: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        partition: str | None = None,
    ) -> np.ndarray:
        """Insert rows (values in `columns` order); returns their positions, once committed."""
        spec = self.collection(name).spec
        values: dict[str, ColumnValues] = dict(
            coerced_columns(spec, target_columns(spec, columns), rows)
        )
        for column in spec.vector_columns:
            if column.name in values:
                to_row = kind_of(column.type).to_row
                values[column.name] = np.stack([to_row(v) for v in values[column.name]])
        return self.insert_columns(name, values, len(rows), partition)

    def insert_columns(
        self,
        name: str,
        values: Mapping[str, ColumnValues],
        count: int,
        partition: str | None = None,
    ) -> np.ndarray:
        """Insert `count` rows given column by column (vectors as (n, d) float32 matrices the
        caller checked, handed over: the in-memory copy may keep them, so the caller must not
        change them afterwards); returns their positions. Columns left out are NULL (a not-null
        one is 23502), ids left out are generated. One DuckDB transaction, then the in-memory
        append: all or nothing."""
        collection = self.collection(name)
        spec = collection.spec
        if partition is not None:
            no_user_partitions(spec)
        target = collection.partition(partition or DEFAULT_PARTITION)
        if count == 0:
            return np.empty(0, np.int64)
        for column in spec.columns:
            if column.name not in values and column.not_null and not column.primary_key:
                raise null_violation(spec, column)
        transaction = self._bound()
        with collection.write_lock:
            existing = self._block_ids(spec)
            ids = column_ids(collection, values.get(spec.id_column.name), count, existing)
            table = columns_table(spec, values, ids)
            keyed = key_partitions(collection, values, count)  # None: all rows to target
            tags = (
                pa.array([p.name for p in keyed], pa.string())
                if keyed is not None
                else pa.repeat(pa.scalar(target.name, pa.string()), count)
            )
            table = table.append_column(PARTITION_COLUMN, tags)
            next_id = max(collection.next_id, int(ids.max()) + 1)
            scalars = {
                c.name: as_list(values[c.name]) if c.name in values else [None] * count
                for c in spec.columns
                if not c.is_vector and not c.primary_key
            }
            vectors = {c.name: np.asarray(values[c.name], np.float32) for c in spec.vector_columns}
            placement = target.name if keyed is None else tuple(p.name for p in keyed)
            if transaction is not None:
                return self._insert_in_block(
                    transaction, collection, table, next_id, ids, scalars, vectors, placement
                )
            self.store.insert(spec, table, next_id)
            collection.next_id = next_id
            return place_rows(collection, self.indexing, ids, scalars, vectors, placement)

    def delete(self, name: str, ids: Sequence[int]) -> int:
        """Delete rows by id; returns how many existed."""
        collection = self.collection(name)
        transaction = self._bound()
        if transaction is not None:
            unique = sorted({int(i) for i in ids})
            with collection.write_lock:
                count = self.store.delete_ids(collection.spec, unique) if unique else 0
            if count:
                transaction.record(PendingDelete(name, unique))
            return count
        with collection.write_lock:
            positions = collection.rows.lookup(ids)
            positions = np.unique(positions[positions >= 0])
            if len(positions) == 0:
                return 0
            live_ids = collection.rows.ids()[positions].tolist()
            self.store.delete_ids(collection.spec, live_ids)
            forget_rows(collection, live_ids)
            return len(positions)

    def update(self, name: str, ids: Sequence[int], values: dict[str, list[Any]]) -> int:
        """Set scalar columns of existing rows (vectors and ids are not updated in place)."""
        collection = self.collection(name)
        spec = collection.spec
        columns = target_columns(spec, list(values))
        for column in columns:
            if column.name == key_column(spec):
                raise FeatureNotSupported(
                    f'UPDATE of partition key "{column.name}" is not supported: delete and '
                    "insert the row"
                )
            if column.is_vector or column.primary_key:
                raise FeatureNotSupported(
                    f'UPDATE of column "{column.name}" is not supported: delete and insert the row'
                )
        rows = list(zip(*values.values(), strict=True))
        coerced = coerced_columns(spec, columns, rows, every_column=False)
        transaction = self._bound()
        if transaction is not None:
            # The ids come from the block's own view of the rows (DuckDB), which memory lacks.
            ids = [int(i) for i in ids]
            table = arrow_table(spec, {spec.id_column.name: ids, **coerced})
            with collection.write_lock:
                count = self.store.update_rows(spec, table)
            transaction.record(PendingUpdate(name, table, ids, coerced))
            return count
        with collection.write_lock:
            positions = collection.rows.lookup(ids)
            live = positions >= 0
            kept_ids = [i for i, keep in zip(ids, live.tolist(), strict=True) if keep]
            kept = {
                c: [v for v, k in zip(vs, live.tolist(), strict=True) if k]
                for c, vs in coerced.items()
            }
            if not kept_ids:
                return 0
            self.store.update_rows(spec, arrow_table(spec, {spec.id_column.name: kept_ids, **kept}))
            set_values(collection, kept_ids, kept)
            return len(kept_ids)

    def search(self, name: str, request: SearchRequest) -> SearchResult:
        collection = self.collection(name)
        with collection.layout_lock.reading():
            return search(collection, request)

    def range_search(
        self, name: str, request: SearchRequest, bound: RangeBound, limit: int | None
    ) -> SearchResult:
        collection = self.collection(name)
        with collection.layout_lock.reading():
            return range_search(collection, request, bound, limit)

    def search_batch(
        self, name: str, request: SearchRequest, queries: np.ndarray
    ) -> list[SearchResult]:
        collection = self.collection(name)
        with collection.layout_lock.reading():
            return search_batch(collection, request, queries)

    def distances(
        self, name: str, column: str, positions: np.ndarray, query: np.ndarray, metric: str
    ) -> np.ndarray:
        vectors = self.collection(name).rows.snapshot().vectors[column]
        return pairwise(vectors[positions], query, metric)

    def take(self, name: str, positions: np.ndarray, column: str) -> list[Any]:
        return self.collection(name).rows.take(positions, column)

    def positions_of(self, name: str, ids: Sequence[int]) -> np.ndarray:
        return self.collection(name).rows.positions_of(ids)

    def row_count(self, name: str) -> int:
        return self.collection(name).rows.live_count

    # administration

    def flush(self, names: Sequence[str] | None = None) -> None:
        """A durability barrier: every acknowledged row and index is in the files on disk."""
        for name in names or []:
            self.collection(name)
        self.store.checkpoint()

    def compact(self, name: str) -> None:
        collection = self.collection(name)
        with collection.write_lock, collection.layout_lock.writing():
            maintenance.compact(collection, self.indexing)
        self.store.checkpoint()

    def stats(self, name: str) -> list[tuple[Any, ...]]:
        return maintenance.stats(self.collection(name), self.indexing.files)

    def stats_table(self, name: str) -> pa.Table:
        """sqlvec_collection_stats(name) as a relation DuckDB can query."""
        return maintenance.stats_table(self.stats(name))

    def analyze(self, name: str) -> list[tuple[Any, ...]]:
        return maintenance.analyze(self.collection(name))

    def wait_for_builds(self, timeout: float | None = None) -> bool:
        return self.builder.wait_idle(timeout)

    # scalar SQL

    def run_sql(
        self, sql: str, params: Sequence[Any], relations: Mapping[str, pa.Table] | None = None
    ) -> SqlResult:
        params = [duckdb_parameter(p) for p in params]
        try:
            description, rows = self.store.query(sql, params, relations)
        except duckdb.Error as exc:
            raise translate(exc) from exc
        columns = [(name, *pg_type_of(kind)) for name, kind in description]
        converters = [value_converter(pg_type) for _, pg_type, _ in columns]
        if any(convert is not unchanged for convert in converters):
            rows = [tuple(f(v) for f, v in zip(converters, row, strict=True)) for row in rows]
        return SqlResult(columns, rows)

    def run_sql_arrow(
        self, sql: str, params: Sequence[Any], relations: Mapping[str, pa.Table] | None = None
    ) -> pa.Table:
        params = [duckdb_parameter(p) for p in params]
        try:
            return self.store.query_arrow(sql, params, relations)
        except duckdb.Error as exc:
            raise translate(exc) from exc

    def describe_sql(
        self, sql: str, relations: Mapping[str, pa.Table] | None = None
    ) -> list[tuple[str, PgType, int]]:
        try:
            description = self.store.describe(sql, relations)
        except duckdb.Error as exc:
            raise translate(exc) from exc
        return [(name, *pg_type_of(kind)) for name, kind in description]

    # internals

    def _is_duckdb_table(self, name: str) -> bool:
        rows = self.store.query(
            "SELECT 1 FROM information_schema.tables WHERE table_name = ?", [name]
        )[1]
        return bool(rows)

    def _load(self, spec: CollectionSpec, next_id: int) -> Collection:
        # Index files do not depend on the rows: read them while DuckDB loads the rows.
        with ThreadPoolExecutor(max_workers=1) as reader:
            indexes = reader.submit(self.indexing.read_indexes, spec.name)
            collection = self._load_rows(spec, next_id)
            self.indexing.load(collection, indexes.result())
        log.info("loaded collection %s: %d rows", spec.name, len(collection.rows))
        return collection

    def _load_rows(self, spec: CollectionSpec, next_id: int) -> Collection:
        collection = Collection(spec, next_id)
        collection.background = self.builder.submit
        for tag, code in self.store.partitions(spec.name):
            collection.add_partition(tag, code)
        table = self.store.load_rows(spec, [select_expression(c) for c in spec.columns])
        if table.num_rows:
            codes = {p.name: p.code for p in collection.partitions.values()}
            partition = np.array(
                [codes[tag] for tag in table.column(PARTITION_COLUMN).to_pylist()], np.int16
            )
            ids = table.column(spec.id_column.name).to_numpy().astype(np.int64)
            # Rows committed by a transaction block did not advance the stored counter.
            collection.next_id = max(collection.next_id, int(ids.max()) + 1)
            scalars = {
                c.name: table.column(c.name).to_pylist()
                for c in spec.columns
                if not c.is_vector and not c.primary_key
            }
            vectors = {c.name: from_arrow(c, table.column(c.name)) for c in spec.vector_columns}
            collection.rows.append(ids, scalars, vectors, partition)
        return collection
