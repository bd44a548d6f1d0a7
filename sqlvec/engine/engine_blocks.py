"""Transaction blocks: the Engine's BEGIN, statements run inside a block, COMMIT and ROLLBACK.

A block's writes go to its own DuckDB transaction and are logged; memory gets them at COMMIT.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb
import numpy as np
import pyarrow as pa

from sqlvec.engine.applied_writes import forget_rows, place_rows, set_values
from sqlvec.engine.catalog import CollectionSpec
from sqlvec.engine.collection import Collection
from sqlvec.engine.duckdb_errors import translate
from sqlvec.engine.indexing import SegmentIndexing
from sqlvec.engine.rows import CollectionRows
from sqlvec.engine.store import Store
from sqlvec.engine.transaction import (
    OpenTransactions,
    PendingDelete,
    PendingInsert,
    PendingRows,
    PendingWrite,
    Transaction,
)
from sqlvec.engine.writes import first_duplicate
from sqlvec.errors import SerializationFailure

T = TypeVar("T")


class BlockWrites:
    """The transaction-block part of Engine (which it inherits): a block's writes, in DuckDB
    first and in memory at COMMIT."""

    store: Store
    _collections: dict[str, Collection]
    _open: OpenTransactions
    indexing: SegmentIndexing

    if TYPE_CHECKING:  # Engine's own methods, which the block methods call

        def collection(self, name: str) -> Collection: ...

    def begin(self) -> Transaction:
        """A new transaction block; its DuckDB transaction begins at its first write."""
        transaction = self.store.new_transaction(Transaction)
        self._open.add(transaction)
        return transaction

    def run_in(self, transaction: Transaction, work: Callable[[], T]) -> T:
        """Run one statement of a block: its reads and writes go through the block."""
        with transaction.lock, self.store.bound(transaction):
            try:
                return work()
            except duckdb.Error as exc:
                # A write that DuckDB refused (another block's write to the same row, ...).
                raise translate(exc) from exc

    def commit(self, transaction: Transaction) -> None:
        """COMMIT in DuckDB, then the block's writes in memory, in order. The collections'
        write locks are held throughout, so no other write comes between the two."""
        with transaction.lock, ExitStack() as locks:
            if transaction.cursor is None:
                return
            for name in sorted(transaction.written):
                if name in self._collections:
                    locks.enter_context(self._collections[name].write_lock)
            self._check_partitions_remain(transaction)
            try:
                transaction.commit_duckdb()
            except duckdb.Error as exc:
                raise translate(exc) from exc
            finally:
                log, transaction.log = transaction.log, []
            for write in log:
                self._apply(write)

    def _check_partitions_remain(self, transaction: Transaction) -> None:
        """A partition the block inserted into was dropped meanwhile (DROP PARTITION refuses
        that, but a write can slip in just before it): COMMIT fails and writes nothing."""
        for write in transaction.log:
            if not isinstance(write, PendingInsert) or write.collection not in self._collections:
                continue  # a dropped collection: DuckDB itself refuses the COMMIT (40001)
            partitions = self._collections[write.collection].partitions
            tags = {write.partition} if isinstance(write.partition, str) else set(write.partition)
            missing = sorted(tags - set(partitions))
            if missing:
                transaction.rollback_duckdb()
                transaction.log = []
                raise SerializationFailure(
                    "could not serialize access due to concurrent DROP PARTITION",
                    detail=f'Partition "{missing[0]}" of collection "{write.collection}" was '
                    "dropped by another transaction.",
                )

    def rollback(self, transaction: Transaction, keep: int = 0) -> None:
        """Undo the block's writes after the first `keep` (all of them by default). DuckDB has
        no savepoints: its transaction is rolled back and the kept writes are done again."""
        with transaction.lock:
            transaction.rollback_duckdb()
            del transaction.log[keep:]
            if not transaction.log:
                return
            with self.store.bound(transaction):
                try:
                    for write in transaction.log:
                        self._redo(write)
                except duckdb.Error as exc:
                    raise translate(exc) from exc

    def _apply(self, write: PendingWrite) -> None:
        collection = self._collections.get(write.collection)
        if collection is None:
            return  # dropped meanwhile (DuckDB refuses such a COMMIT; this is belt and braces)
        if isinstance(write, PendingInsert):
            snapshot = write.rows.snapshot()
            scalars = {
                c.name: write.rows.take(np.arange(snapshot.size), c.name)
                for c in collection.spec.columns
                if not c.is_vector and not c.primary_key
            }
            place_rows(
                collection, self.indexing, snapshot.ids, scalars, snapshot.vectors, write.partition
            )
        elif isinstance(write, PendingDelete):
            forget_rows(collection, write.ids)
        else:
            set_values(collection, write.ids, write.values)

    def _redo(self, write: PendingWrite) -> None:
        spec = self.collection(write.collection).spec
        if isinstance(write, PendingInsert):
            self.store.insert(spec, write.table, None)
        elif isinstance(write, PendingDelete):
            self.store.delete_ids(spec, write.ids)
        else:
            self.store.update_rows(spec, write.table)

    def _insert_in_block(
        self,
        transaction: Transaction,
        collection: Collection,
        table: pa.Table,
        next_id: int,
        ids: np.ndarray,
        scalars: dict[str, list[Any]],
        vectors: dict[str, np.ndarray],
        partition: str | tuple[str, ...],
    ) -> np.ndarray:
        """Write to the block's DuckDB transaction; memory gets the rows at COMMIT. Returns
        their positions among the block's pending rows of this INSERT (see `inserted_rows`)."""
        spec = collection.spec
        # Ids are taken now from the counter in memory, which every session shares: a
        # rolled-back block leaves a gap, as in Postgres. The stored counter is not written
        # here (one more commit per block, and a row two blocks would both update): a restart
        # takes the largest stored id into account instead.
        collection.next_id = max(collection.next_id, next_id)
        self.store.insert(spec, table, None)
        rows = CollectionRows(spec)
        positions = rows.append(ids, scalars, vectors)
        transaction.record(PendingInsert(spec.name, partition, table, rows))
        return positions

    def first_duplicate(self, name: str, ids: np.ndarray) -> int | None:
        """Index of the first id that a row already has or that repeats in `ids` (inside a
        block, as the block sees the rows)."""
        collection = self.collection(name)
        return first_duplicate(collection, ids, self._block_ids(collection.spec))

    def inserted_rows(self, name: str) -> Any:
        """What INSERT ... RETURNING reads the rows just inserted from: the engine, or inside a
        block the block's pending rows (`insert` returned positions among them)."""
        transaction = self._bound()
        if transaction is None:
            return self
        last = transaction.log[-1]
        assert isinstance(last, PendingInsert) and last.collection == name
        return PendingRows(last.rows)

    def _bound(self) -> Transaction | None:
        """The block whose statement this thread runs, if any."""
        transaction = self.store.bound_transaction()
        return transaction if isinstance(transaction, Transaction) else None

    def _block_ids(self, spec: CollectionSpec) -> Callable[[np.ndarray], np.ndarray] | None:
        """Which ids a row has as this thread's block sees them, where memory can't tell: until
        a block writes a collection it sees what memory holds (the latest commits); after that
        ids are checked against the block's own DuckDB view. None: memory answers."""
        transaction = self._bound()
        if transaction is None or spec.name not in transaction.written:
            return None
        return self._existing_ids(spec)

    def _existing_ids(self, spec: CollectionSpec) -> Callable[[np.ndarray], np.ndarray]:
        def existing(ids: np.ndarray) -> np.ndarray:
            return np.isin(ids, np.asarray(self.store.existing_ids(spec, ids.tolist()), np.int64))

        return existing
