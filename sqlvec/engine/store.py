"""DuckDB: the durable copy of the catalog and of every row, and the engine for scalar SQL.

Each worker thread gets its own DuckDB cursor (DuckDB connections are not shared across
threads). Every write is one DuckDB transaction, committed before the client is answered.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from sqlvec.engine.catalog import CollectionSpec

DATABASE_FILE = "sqlvec.duckdb"
CATALOG_SCHEMA = "sqlvec_catalog"


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Store:
    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self._connection = duckdb.connect(str(data_dir / DATABASE_FILE))
        self._local = threading.local()
        self._connection.execute(f"CREATE SCHEMA IF NOT EXISTS {CATALOG_SCHEMA}")
        self._connection.execute(
            f"CREATE TABLE IF NOT EXISTS {CATALOG_SCHEMA}.collections ("
            "name VARCHAR PRIMARY KEY, spec VARCHAR NOT NULL, next_id BIGINT NOT NULL)"
        )

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's DuckDB cursor."""
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._connection.cursor()
            self._local.cursor = cursor
        return cursor

    def close(self) -> None:
        self._connection.close()

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
        with self._transaction() as cursor:
            cursor.execute(f"CREATE TABLE {quote_identifier(spec.name)} ({columns})")
            cursor.execute(
                f"INSERT INTO {CATALOG_SCHEMA}.collections VALUES (?, ?, 1)",
                [spec.name, spec.to_json()],
            )

    def drop_collection(self, name: str) -> None:
        with self._transaction() as cursor:
            cursor.execute(f"DROP TABLE {quote_identifier(name)}")
            cursor.execute(f"DELETE FROM {CATALOG_SCHEMA}.collections WHERE name = ?", [name])

    def insert(self, spec: CollectionSpec, table: pa.Table, next_id: int) -> None:
        """Insert rows and advance the id counter in one transaction."""
        names = ", ".join(quote_identifier(name) for name in table.column_names)
        with self._transaction() as cursor:
            cursor.register("sqlvec_rows", table)
            try:
                cursor.execute(
                    f"INSERT INTO {quote_identifier(spec.name)} ({names}) "
                    f"SELECT {names} FROM sqlvec_rows"
                )
            finally:
                cursor.unregister("sqlvec_rows")
            cursor.execute(
                f"UPDATE {CATALOG_SCHEMA}.collections SET next_id = ? WHERE name = ?",
                [next_id, spec.name],
            )

    def load_rows(self, spec: CollectionSpec) -> pa.Table:
        names = ", ".join(quote_identifier(c.name) for c in spec.columns)
        return (
            self.cursor()
            .sql(f"SELECT {names} FROM {quote_identifier(spec.name)} ORDER BY rowid")
            .to_arrow_table()
        )

    def query(
        self, sql: str, params: Sequence[Any]
    ) -> tuple[list[tuple[str, str]], list[tuple[Any, ...]]]:
        """Run scalar SQL (DuckDB dialect); returns ([(name, duckdb type)], rows)."""
        cursor = self.cursor()
        cursor.execute(sql, list(params))
        if cursor.description is None:
            return [], []
        description = [(column[0], str(column[1])) for column in cursor.description]
        return description, cursor.fetchall()

    def describe(self, sql: str) -> list[tuple[str, str]]:
        """Result column names and DuckDB types of a query, without running it."""
        rows = self.cursor().execute(f"DESCRIBE {sql}").fetchall()
        return [(row[0], row[1]) for row in rows]

    def _transaction(self) -> _Transaction:
        return _Transaction(self.cursor())


class _Transaction:
    def __init__(self, cursor: duckdb.DuckDBPyConnection) -> None:
        self._cursor = cursor

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        self._cursor.execute("BEGIN TRANSACTION")
        return self._cursor

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self._cursor.execute("COMMIT")
        else:
            self._cursor.execute("ROLLBACK")


def vectors_from_arrow(column: pa.ChunkedArray, dim: int) -> np.ndarray:
    """A FLOAT[d] column as an (n, d) float32 matrix, without a per-row loop."""
    if column.num_chunks == 0 or len(column) == 0:
        return np.zeros((0, dim), dtype=np.float32)
    flat = column.combine_chunks().flatten().to_numpy(zero_copy_only=False)
    return flat.astype(np.float32, copy=False).reshape(-1, dim)
