"""DuckDB: the durable copy of the catalog and of every row, and the engine for scalar SQL.

Each worker thread gets its own DuckDB cursor (DuckDB connections are not shared across
threads). Outside a transaction block every write is one DuckDB transaction, committed before
the client is answered. While a thread runs a statement of a transaction block, the block's
`DuckTransaction` is bound to the thread: reads and writes go through its cursor, and writes
join its DuckDB transaction instead of committing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np
import pyarrow as pa

from sqlvec.engine.cancel import interruptible
from sqlvec.engine.catalog import CollectionSpec
from sqlvec.engine.duckdb_functions import register_functions

T = TypeVar("T", bound="DuckTransaction")
DATABASE_FILE = "sqlvec.duckdb"
CATALOG_SCHEMA = "sqlvec_catalog"
DATA_SCHEMA = "sqlvec_data"
PARTITION_COLUMN = "__partition"
DEFAULT_PARTITION = "_default"
# DuckDB's float compression (ALP, ALPRD) is half the time of a bulk insert of FLOAT[d]
# vectors: its analysis runs over every value, and on real-valued vectors (Gaussian, unit
# length, values from fp16 alike) it saves about 4%. Without it, vectors and REAL/DOUBLE
# columns are stored as they are, as Postgres and pgvector store them; integers and strings
# keep DuckDB's other compressions. DuckDB cannot choose compression per ARRAY column, and the
# setting is database-wide, so it is set once, before any other thread uses the database.
DISABLED_COMPRESSION = "alp,alprd"

_CATALOG_TABLES = (
    "collections (name VARCHAR PRIMARY KEY, spec VARCHAR NOT NULL, next_id BIGINT NOT NULL)",
    "partitions (collection VARCHAR, name VARCHAR, code SMALLINT, PRIMARY KEY (collection, name))",
    "indexes (collection VARCHAR, col VARCHAR, definition VARCHAR, PRIMARY KEY (collection, col))",
    # A sealed segment: which rows it holds (ids file) and, per indexed column, its index file.
    "segments (collection VARCHAR, segment BIGINT, partition VARCHAR, row_count BIGINT, "
    "ids_file VARCHAR, PRIMARY KEY (collection, segment))",
    "segment_indexes (collection VARCHAR, segment BIGINT, col VARCHAR, index_name VARCHAR, "
    "file VARCHAR, checksum BIGINT, bytes BIGINT, PRIMARY KEY (collection, segment, col))",
)


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def base_table(name: str) -> str:
    """Where a collection's rows live; users read them through a view named after it."""
    return f"{DATA_SCHEMA}.{quote_identifier(name)}"


class Store:
    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self._connection = duckdb.connect(str(data_dir / DATABASE_FILE))
        register_functions(self._connection)
        # Through SET: duckdb.connect(config=...) ignores this option without a word.
        self._connection.execute(f"SET disabled_compression_methods = '{DISABLED_COMPRESSION}'")
        self._local = threading.local()
        for schema in (CATALOG_SCHEMA, DATA_SCHEMA):
            self._connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for table in _CATALOG_TABLES:
            self._connection.execute(f"CREATE TABLE IF NOT EXISTS {CATALOG_SCHEMA}.{table}")

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's own DuckDB cursor, outside any transaction block."""
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._connection.cursor()
            self._local.cursor = cursor
        return cursor

    def close(self) -> None:
        self._connection.close()

    # transaction blocks

    def new_transaction(self, kind: type[T]) -> T:
        """A transaction block's DuckDB transaction (`kind`: DuckTransaction or a subclass)."""
        return kind(self._connection)

    @contextmanager
    def bound(self, transaction: DuckTransaction) -> Iterator[None]:
        """Route this thread's reads and writes through `transaction` while the block runs."""
        previous = getattr(self._local, "transaction", None)
        self._local.transaction = transaction
        try:
            yield
        finally:
            self._local.transaction = previous

    def bound_transaction(self) -> DuckTransaction | None:
        return getattr(self._local, "transaction", None)

    def _reader(self) -> duckdb.DuckDBPyConnection:
        """The cursor that reads see: the block's once it has written, else this thread's."""
        transaction = self.bound_transaction()
        if transaction is not None and transaction.cursor is not None:
            return transaction.cursor
        return self.cursor()

    def existing_ids(self, spec: CollectionSpec, ids: Sequence[int]) -> list[int]:
        """Which of `ids` rows already have, as this thread's transaction sees them."""
        key = quote_identifier(spec.id_column.name)
        rows = self._reader().execute(
            f"SELECT {key} FROM {base_table(spec.name)} WHERE {key} IN (SELECT unnest(?))",
            [list(ids)],
        )
        return [row[0] for row in rows.fetchall()]

    def checkpoint(self) -> None:
        self.cursor().execute("CHECKPOINT")

    # collections

    def load_specs(self) -> list[tuple[CollectionSpec, int]]:
        rows = self.cursor().execute(
            f"SELECT spec, next_id FROM {CATALOG_SCHEMA}.collections ORDER BY name"
        )
        return [(CollectionSpec.from_json(spec), next_id) for spec, next_id in rows.fetchall()]

    def create_collection(self, spec: CollectionSpec) -> None:
        columns = ", ".join(
            f"{quote_identifier(c.name)} {c.duckdb_type}"
            + (" PRIMARY KEY" if c.primary_key else "")
            + (" NOT NULL" if c.not_null and not c.primary_key else "")
            for c in spec.columns
        )
        partition = f"{PARTITION_COLUMN} VARCHAR NOT NULL DEFAULT '{DEFAULT_PARTITION}'"
        visible = ", ".join(quote_identifier(c.name) for c in spec.columns)
        with self._transaction() as cursor:
            cursor.execute(f"CREATE TABLE {base_table(spec.name)} ({columns}, {partition})")
            cursor.execute(
                f"CREATE VIEW {quote_identifier(spec.name)} AS "
                f"SELECT {visible} FROM {base_table(spec.name)}"
            )
            cursor.execute(
                f"INSERT INTO {CATALOG_SCHEMA}.collections VALUES (?, ?, 1)",
                [spec.name, spec.to_json()],
            )
            cursor.execute(
                f"INSERT INTO {CATALOG_SCHEMA}.partitions VALUES (?, ?, 0)",
                [spec.name, DEFAULT_PARTITION],
            )

    def drop_collection(self, name: str) -> None:
        with self._transaction() as cursor:
            cursor.execute(f"DROP VIEW {quote_identifier(name)}")
            cursor.execute(f"DROP TABLE {base_table(name)}")
            for table in ("collections", "partitions", "indexes", "segments", "segment_indexes"):
                column = "name" if table == "collections" else "collection"
                cursor.execute(f"DELETE FROM {CATALOG_SCHEMA}.{table} WHERE {column} = ?", [name])

    # rows

    def insert(self, spec: CollectionSpec, table: pa.Table, next_id: int | None) -> None:
        """Insert rows and advance the id counter (unless None) in one transaction."""
        names = ", ".join(quote_identifier(name) for name in table.column_names)
        with self._transaction() as cursor:
            # Registered on the cursor the block writes with (a block's own DuckDB
            # connection); `_unregister` tolerates the aborted transaction after an error.
            cursor.register("sqlvec_rows", table)
            try:
                # Interruptible up to COMMIT: a cancel rolls the whole insert back.
                with interruptible(cursor):
                    cursor.execute(
                        f"INSERT INTO {base_table(spec.name)} ({names}) "
                        f"SELECT {names} FROM sqlvec_rows"
                    )
            finally:
                _unregister(cursor, "sqlvec_rows")
            if next_id is not None:
                cursor.execute(
                    f"UPDATE {CATALOG_SCHEMA}.collections SET next_id = ? WHERE name = ?",
                    [next_id, spec.name],
                )

    def delete_ids(self, spec: CollectionSpec, ids: Sequence[int]) -> int:
        """Delete rows by id; returns how many there were."""
        key = quote_identifier(spec.id_column.name)
        with self._transaction() as cursor:
            result = cursor.execute(
                f"DELETE FROM {base_table(spec.name)} WHERE {key} IN (SELECT unnest(?))",
                [list(ids)],
            ).fetchone()
        return int(result[0]) if result else 0

    def delete_partition(self, spec: CollectionSpec, partition: str) -> None:
        with self._transaction() as cursor:
            cursor.execute(
                f"DELETE FROM {base_table(spec.name)} WHERE {PARTITION_COLUMN} = ?", [partition]
            )
            cursor.execute(
                f"DELETE FROM {CATALOG_SCHEMA}.partitions WHERE collection = ? AND name = ?",
                [spec.name, partition],
            )

    def update_rows(self, spec: CollectionSpec, table: pa.Table) -> int:
        """Set the other columns of `table` on the rows whose ids it holds; returns how many."""
        key = quote_identifier(spec.id_column.name)
        assignments = ", ".join(
            f"{quote_identifier(name)} = u.{quote_identifier(name)}"
            for name in table.column_names
            if name != spec.id_column.name
        )
        with self._transaction() as cursor:
            cursor.register("sqlvec_updates", table)
            try:
                with interruptible(cursor):
                    result = cursor.execute(
                        f"UPDATE {base_table(spec.name)} SET {assignments} FROM sqlvec_updates u "
                        f"WHERE {base_table(spec.name)}.{key} = u.{key}"
                    ).fetchone()
            finally:
                _unregister(cursor, "sqlvec_updates")
        return int(result[0]) if result else 0

    def load_rows(self, spec: CollectionSpec, columns: Sequence[str]) -> pa.Table:
        """Every row, in insertion order: `columns` are the select-list expressions."""
        names = ", ".join(columns)
        return (
            self.cursor()
            .sql(f"SELECT {names}, {PARTITION_COLUMN} FROM {base_table(spec.name)} ORDER BY rowid")
            .to_arrow_table()
        )

    # partitions, indexes and segments

    def partitions(self, collection: str) -> list[tuple[str, int]]:
        rows = self.cursor().execute(
            f"SELECT name, code FROM {CATALOG_SCHEMA}.partitions "
            "WHERE collection = ? ORDER BY code",
            [collection],
        )
        return [(name, code) for name, code in rows.fetchall()]

    def add_partition(self, collection: str, name: str, code: int) -> None:
        with self._transaction() as cursor:
            cursor.execute(
                f"INSERT INTO {CATALOG_SCHEMA}.partitions VALUES (?, ?, ?)",
                [collection, name, code],
            )

    def index_definitions(self, collection: str) -> list[tuple[str, str]]:
        rows = self.cursor().execute(
            f"SELECT col, definition FROM {CATALOG_SCHEMA}.indexes WHERE collection = ?",
            [collection],
        )
        return rows.fetchall()

    def set_index(self, collection: str, column: str, definition: str | None) -> None:
        """Record (or, with None, remove) the index of a column and forget built files."""
        with self._transaction() as cursor:
            cursor.execute(
                f"DELETE FROM {CATALOG_SCHEMA}.indexes WHERE collection = ? AND col = ?",
                [collection, column],
            )
            cursor.execute(
                f"DELETE FROM {CATALOG_SCHEMA}.segment_indexes WHERE collection = ? AND col = ?",
                [collection, column],
            )
            if definition is not None:
                cursor.execute(
                    f"INSERT INTO {CATALOG_SCHEMA}.indexes VALUES (?, ?, ?)",
                    [collection, column, definition],
                )

    def segments(self, collection: str) -> list[tuple[int, str, int, str]]:
        rows = self.cursor().execute(
            f"SELECT segment, partition, row_count, ids_file FROM {CATALOG_SCHEMA}.segments "
            "WHERE collection = ? ORDER BY segment",
            [collection],
        )
        return rows.fetchall()

    def segment_indexes(self, collection: str) -> list[tuple[int, str, str, str, int, int]]:
        rows = self.cursor().execute(
            f"SELECT segment, col, index_name, file, checksum, bytes FROM "
            f"{CATALOG_SCHEMA}.segment_indexes WHERE collection = ?",
            [collection],
        )
        return rows.fetchall()

    def record_segment(
        self, collection: str, segment: int, partition: str, row_count: int, ids_file: str
    ) -> None:
        with self._transaction() as cursor:
            cursor.execute(
                f"INSERT OR REPLACE INTO {CATALOG_SCHEMA}.segments VALUES (?, ?, ?, ?, ?)",
                [collection, segment, partition, row_count, ids_file],
            )

    def forget_segment(self, collection: str, segment: int) -> None:
        with self._transaction() as cursor:
            for table in ("segments", "segment_indexes"):
                cursor.execute(
                    f"DELETE FROM {CATALOG_SCHEMA}.{table} WHERE collection = ? AND segment = ?",
                    [collection, segment],
                )

    def record_segment_index(
        self,
        collection: str,
        segment: int,
        column: str,
        index_name: str,
        file: str,
        checksum: int,
        size: int,
    ) -> None:
        with self._transaction() as cursor:
            cursor.execute(
                f"INSERT OR REPLACE INTO {CATALOG_SCHEMA}.segment_indexes "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [collection, segment, column, index_name, file, checksum, size],
            )

    def query(
        self, sql: str, params: Sequence[Any], relations: Mapping[str, pa.Table] | None = None
    ) -> tuple[list[tuple[str, str]], list[tuple[Any, ...]]]:
        """Run scalar SQL (DuckDB dialect); returns ([(name, duckdb type)], rows).

        `relations` are Arrow tables the statement reads by name (table functions' results).
        """
        cursor = self._reader()
        with _registered(cursor, relations or {}), interruptible(cursor):
            cursor.execute(sql, list(params))
            if cursor.description is None:
                return [], []
            description = [(column[0], str(column[1])) for column in cursor.description]
            return description, cursor.fetchall()

    def query_arrow(
        self, sql: str, params: Sequence[Any], relations: Mapping[str, pa.Table] | None = None
    ) -> pa.Table:
        """Run a query and return its rows as an Arrow table (bulk results for relations)."""
        cursor = self._reader()
        with _registered(cursor, relations or {}), interruptible(cursor):
            return cursor.sql(sql, params=list(params)).to_arrow_table()

    def describe(
        self, sql: str, relations: Mapping[str, pa.Table] | None = None
    ) -> list[tuple[str, str]]:
        """Result column names and DuckDB types of a query, without running it."""
        cursor = self._reader()
        with _registered(cursor, relations or {}):
            rows = cursor.execute(f"DESCRIBE {sql}").fetchall()
        return [(row[0], row[1]) for row in rows]

    def _transaction(self) -> _Transaction:
        transaction = self.bound_transaction()
        if transaction is not None:
            # Inside a block: the write joins the block's DuckDB transaction (begun now if this
            # is its first write) and commits with it.
            return _Transaction(transaction.started(), joined=True)
        return _Transaction(self.cursor())


@contextmanager
def _registered(
    cursor: duckdb.DuckDBPyConnection, relations: Mapping[str, pa.Table]
) -> Iterator[None]:
    for name, table in relations.items():
        cursor.register(name, table)
    try:
        yield
    finally:
        for name in relations:
            _unregister(cursor, name)


def _unregister(cursor: duckdb.DuckDBPyConnection, name: str) -> None:
    # After a failed statement in a block DuckDB refuses everything, this too: the block's
    # transaction is rolled back later, and the original error must not be masked.
    with suppress(duckdb.Error):
        cursor.unregister(name)


class _Transaction:
    def __init__(self, cursor: duckdb.DuckDBPyConnection, joined: bool = False) -> None:
        self._cursor = cursor
        self._joined = joined  # part of a block's transaction: the block commits it

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        if not self._joined:
            self._cursor.execute("BEGIN TRANSACTION")
        return self._cursor

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if self._joined:
            return
        if exc_type is None:
            self._cursor.execute("COMMIT")
        else:
            self._cursor.execute("ROLLBACK")


class DuckTransaction:
    """A transaction block's DuckDB transaction, on a cursor of its own.

    It begins at the block's first write: until then the block's reads see the latest commits.
    `lock` keeps the cursor to one thread at a time (a session's statements run on pool threads).
    """

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self._connection = connection
        self.cursor: duckdb.DuckDBPyConnection | None = None
        self.lock = threading.RLock()

    def started(self) -> duckdb.DuckDBPyConnection:
        if self.cursor is None:
            cursor = self._connection.cursor()
            cursor.execute("BEGIN TRANSACTION")
            self.cursor = cursor
        return self.cursor

    def commit_duckdb(self) -> None:
        """COMMIT; on failure DuckDB has already rolled the transaction back."""
        cursor, self.cursor = self.cursor, None
        if cursor is None:
            return
        try:
            cursor.execute("COMMIT")
        finally:
            cursor.close()

    def rollback_duckdb(self) -> None:
        cursor, self.cursor = self.cursor, None
        if cursor is None:
            return
        try:
            cursor.execute("ROLLBACK")
        except duckdb.Error:
            pass  # already ended by DuckDB (a failed statement or COMMIT)
        finally:
            cursor.close()


def vectors_from_arrow(column: pa.ChunkedArray, dim: int) -> np.ndarray:
    """A FLOAT[d] column as an (n, d) float32 matrix, without a per-row loop."""
    if column.num_chunks == 0 or len(column) == 0:
        return np.zeros((0, dim), dtype=np.float32)
    flat = column.combine_chunks().flatten().to_numpy(zero_copy_only=False)
    return flat.astype(np.float32, copy=False).reshape(-1, dim)
