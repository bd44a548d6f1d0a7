"""A transaction block's writes: in DuckDB at once, in the in-memory copy only at COMMIT.

The block's statements write through its own DuckDB transaction (`store.DuckTransaction`), so
the block reads its own writes and nobody else sees them. Searches of other sessions read the
in-memory copy, so it must not change before COMMIT: each write is also kept here, as it will
be applied to memory (rows already coerced, ids already allocated) and as it can be written to
DuckDB again. DuckDB has no savepoints: ROLLBACK TO rolls the DuckDB transaction back and
writes the log up to the savepoint again.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from sqlvec.engine.rows import CollectionRows
from sqlvec.engine.search import pairwise
from sqlvec.engine.store import DuckTransaction


@dataclass(frozen=True)
class PendingInsert:
    collection: str
    partition: str | tuple[str, ...]  # one for every row, or (partition key) one per row
    table: pa.Table  # what DuckDB was given: every column, ids and partition tag included
    rows: CollectionRows  # the same rows in memory form (RETURNING reads them, COMMIT appends)


@dataclass(frozen=True)
class PendingDelete:
    collection: str
    ids: list[int]


@dataclass(frozen=True)
class PendingUpdate:
    collection: str
    table: pa.Table  # ids and new values, as DuckDB was given them
    ids: list[int]
    values: dict[str, list[Any]]  # column -> coerced new values, in `ids` order


PendingWrite = PendingInsert | PendingDelete | PendingUpdate


class Transaction(DuckTransaction):
    """One session's open transaction block, as the engine sees it."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        super().__init__(connection)
        self.log: list[PendingWrite] = []

    @property
    def written(self) -> set[str]:
        """The collections this block has written: its searches of them go through DuckDB."""
        return {write.collection for write in self.log}

    def record(self, write: PendingWrite) -> None:
        self.log.append(write)


class OpenTransactions:
    """The engine's open blocks, so that DROP PARTITION and DROP COLLECTION can see pending
    writes that would otherwise reach a dropped partition at COMMIT. Weak: a block that ended
    (its log emptied at COMMIT or ROLLBACK) or was forgotten needs no unregistering."""

    def __init__(self) -> None:
        self._blocks: weakref.WeakSet[Transaction] = weakref.WeakSet()
        self._lock = threading.Lock()  # begin() runs on the event loop, DROP on a pool thread

    def add(self, transaction: Transaction) -> None:
        with self._lock:
            self._blocks.add(transaction)

    def writing(self, collection: str) -> bool:
        """Whether an open block has pending writes to `collection`."""
        with self._lock:
            blocks = list(self._blocks)
        return any(collection in block.written for block in blocks)


class PendingRows:
    """Rows inserted in an open block, read like the engine's (for INSERT ... RETURNING)."""

    def __init__(self, rows: CollectionRows) -> None:
        self._rows = rows

    def take(self, name: str, positions: np.ndarray, column: str) -> list[Any]:
        return self._rows.take(positions, column)

    def distances(
        self, name: str, column: str, positions: np.ndarray, query: np.ndarray, metric: str
    ) -> np.ndarray:
        return pairwise(self._rows.snapshot().vectors[column][positions], query, metric)
