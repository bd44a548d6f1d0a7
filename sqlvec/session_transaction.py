"""A session's transaction block: BEGIN / COMMIT / ROLLBACK / savepoints, and status I/T/E.

An explicit block (BEGIN ... COMMIT) holds an engine `Transaction`: every statement in it runs
bound to it (see `Engine.run_in`), its writes reach the in-memory copy at COMMIT and vanish at
ROLLBACK. A simple query of several statements is an implicit block, as in Postgres: it
commits when the last statement succeeds and is rolled back when one fails. So are the
extended protocol's Executes up to a Sync (pgjdbc batches, asyncpg's executemany, psycopg's
pipeline): the block begins at the first Execute that may write (reads before it have nothing
to undo, so a lone SELECT costs no transaction), commits at Sync, and is rolled back by an
error (the wire layer then skips to Sync).

Statements that change the catalog or the files on disk (DDL, partitions, indexes, FLUSH,
COMPACT) commit on their own: an explicit block runs them at once while it has written nothing
(with a NOTICE: ROLLBACK does not undo them) and refuses them after a write (25001); an implicit
block commits what came before and goes on after them in a new implicit block.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlglot import exp

from sqlvec.engine.engine import Engine
from sqlvec.engine.outcome import Outcome
from sqlvec.engine.transaction import Transaction
from sqlvec.errors import (
    ActiveSqlTransaction,
    InFailedTransaction,
    InvalidSavepointSpecification,
    NoActiveSqlTransaction,
    Notice,
)
from sqlvec.parser.nodes import Savepoint
from sqlvec.planner.copy import CopyFromPlan, CopyToPlan
from sqlvec.planner.plans import (
    BatchTopKPlan,
    CompactPlan,
    ConstantPlan,
    CreateCollectionPlan,
    CreateIndexPlan,
    CreatePartitionPlan,
    DropCollectionPlan,
    DropIndexPlan,
    DropPartitionPlan,
    DuckPlan,
    ExplainPlan,
    FlushPlan,
    InsertPlan,
    SearchSubqueryPlan,
    ShowCollectionsPlan,
    ShowPartitionsPlan,
    VectorRangePlan,
    VectorTopKPlan,
)
from sqlvec.wire.handler import TransactionStatus

T = TypeVar("T")
OffLoop = Callable[[Callable[[], Any]], Awaitable[Any]]

TRANSACTION_NODES = (exp.Transaction, exp.Commit, exp.Rollback, Savepoint)

# Plans that commit on their own, with the words of the 25001 message.
_OWN_TRANSACTION: dict[type, str] = {
    CreateCollectionPlan: "CREATE TABLE",
    DropCollectionPlan: "DROP TABLE",
    CreatePartitionPlan: "CREATE PARTITION",
    DropPartitionPlan: "DROP PARTITION",
    CreateIndexPlan: "CREATE INDEX",
    DropIndexPlan: "DROP INDEX",
    FlushPlan: "FLUSH",
    CompactPlan: "COMPACT",
}


# Plans whose Execute begins no implicit block: reads, statements that commit on their own, and
# COPY (a stream whose rows commit when it ends; inside a block it joins the block).
_NO_IMPLICIT_BLOCK = frozenset(
    {
        VectorTopKPlan,
        VectorRangePlan,
        BatchTopKPlan,
        SearchSubqueryPlan,
        DuckPlan,
        ConstantPlan,
        ShowCollectionsPlan,
        ShowPartitionsPlan,
        CopyFromPlan,
        CopyToPlan,
        *_OWN_TRANSACTION,
    }
)


def searched_collections(node: object) -> set[str]:
    """The collections a vector search plan reads through the in-memory copy."""
    if isinstance(node, VectorTopKPlan):
        return {node.collection}
    if isinstance(node, BatchTopKPlan):
        return {node.inner.collection}
    if isinstance(node, SearchSubqueryPlan):
        return {search.collection for search in node.searches}
    if isinstance(node, ExplainPlan):
        return searched_collections(node.inner)
    if isinstance(node, InsertPlan) and node.source is not None:
        return searched_collections(node.source)  # INSERT ... SELECT with a search
    return set()


class TransactionBlock:
    def __init__(self, engine: Engine, off_loop: OffLoop, on_end: Callable[[], dict[str, str]]):
        self._engine = engine
        self._off_loop = off_loop
        self._on_end = on_end  # restores SET LOCAL values; returns the changed statuses
        self.status: TransactionStatus = "I"
        self.transaction: Transaction | None = None
        self._implicit = False
        self._savepoints: list[tuple[str, int]] = []  # (name, length of the write log)
        self.notices: list[Notice] = []  # for the statement now running, taken by the session

    @property
    def in_block(self) -> bool:
        return self.status != "I" or self._implicit

    def check_not_failed(self) -> None:
        if self.status == "E":
            raise InFailedTransaction(
                "current transaction is aborted, commands ignored until end of transaction block"
            )

    def fail(self) -> None:
        if self.status == "T":
            self.status = "E"
        elif self._implicit:
            self._rollback_implicit()  # an error ends an implicit block, undone

    # implicit blocks

    def begin_implicit(self) -> None:
        if self.status == "I" and self.transaction is None:
            self.transaction = self._engine.begin()
            self._implicit = True

    def begin_for_execute(self, node: object) -> None:
        """An extended-protocol Execute of `node`: the implicit block up to Sync begins here
        if `node` may write."""
        if self.transaction is None and type(node) not in _NO_IMPLICIT_BLOCK:
            self.begin_implicit()

    async def end_implicit(self, commit: bool) -> None:
        """End the implicit block of a simple query or of the Executes before a Sync: commit
        after success, else roll back."""
        if not self._implicit:
            return
        if not commit:
            self._rollback_implicit()
            return
        transaction, self.transaction, self._implicit = self.transaction, None, False
        assert transaction is not None
        await self._commit(transaction)

    def _rollback_implicit(self) -> None:
        transaction, self.transaction, self._implicit = self.transaction, None, False
        if transaction is not None:
            self._engine.rollback(transaction)  # no DuckDB work to redo: quick

    def abandon(self) -> None:
        """The connection is gone: roll back whatever block is open."""
        if self.transaction is not None:
            self._engine.rollback(self.transaction)
        self.transaction, self._implicit, self.status = None, False, "I"

    async def transaction_for(self, node: object) -> Transaction | None:
        """The block a planned statement runs in; None: it runs (and commits) on its own."""
        if self.transaction is None:
            return None
        what = _OWN_TRANSACTION.get(type(node))
        if what is None:
            return self.transaction
        if not self._implicit:
            if self.transaction.log:
                raise ActiveSqlTransaction(
                    f"{what} cannot run inside a transaction block that has written rows",
                    hint="COMMIT or ROLLBACK the block first: this statement commits on its own.",
                )
            # ORMs and migration tools (SQLAlchemy's create_all, Alembic) send DDL inside
            # BEGIN ... COMMIT: run it at once rather than refuse it; say ROLLBACK can't undo it.
            self.notices.append(
                Notice(
                    f"{what} inside a transaction block commits at once; ROLLBACK does not undo it"
                )
            )
            return None
        await self.end_implicit(commit=True)
        self.begin_implicit()  # for the statements after this one
        return None

    # BEGIN, COMMIT, ROLLBACK, savepoints

    async def run(self, node: exp.Expr) -> Outcome:
        if isinstance(node, exp.Transaction):
            return self._begin("START TRANSACTION" if node.this == "START" else "BEGIN")
        if isinstance(node, exp.Commit):
            return await self._end(commit=self.status != "E")
        if isinstance(node, exp.Rollback):
            return await self._end(commit=False)
        assert isinstance(node, Savepoint)
        return await self._savepoint(node)

    def _begin(self, tag: str) -> Outcome:
        self.check_not_failed()
        if self.status == "T":
            warning = _warning("there is already a transaction in progress", "25001")
            return Outcome(tag, notices=[warning])
        if self._implicit:
            self._implicit = False  # BEGIN in a multi-statement query: the block goes on
        else:
            self.transaction = self._engine.begin()
        self.status = "T"
        return Outcome(tag)

    async def _end(self, commit: bool) -> Outcome:
        tag = "COMMIT" if commit else "ROLLBACK"
        if self.status == "I":
            if self._implicit:
                # Postgres warns, and ends an implicit block all the same; a new one follows.
                await self.end_implicit(commit)
                self.begin_implicit()
            return Outcome(tag, notices=[_warning("there is no transaction in progress", "25P01")])
        transaction, self.transaction = self.transaction, None
        self.status = "I"
        self._savepoints.clear()
        restored = self._on_end()
        if transaction is not None:
            if commit:
                await self._commit(transaction)
            else:
                self._engine.rollback(transaction)
        return Outcome(tag, parameter_status=restored)

    async def _commit(self, transaction: Transaction) -> None:
        if transaction.cursor is None:
            return  # nothing written: nothing to commit
        await self._off_loop(lambda: self._engine.commit(transaction))

    async def _savepoint(self, node: Savepoint) -> Outcome:
        action = node.args.get("action", "savepoint")
        if self.status == "I":
            verb = {"release": "RELEASE SAVEPOINT", "rollback_to": "ROLLBACK TO SAVEPOINT"}.get(
                action, "SAVEPOINT"
            )
            raise NoActiveSqlTransaction(f"{verb} can only be used in transaction blocks")
        transaction = self.transaction
        assert transaction is not None
        if action == "savepoint":
            self.check_not_failed()
            self._savepoints.append((node.name, len(transaction.log)))
            return Outcome("SAVEPOINT")
        index = self._find(node.name)
        if action == "release":
            self.check_not_failed()
            del self._savepoints[index:]
            return Outcome("RELEASE")
        mark = self._savepoints[index][1]
        del self._savepoints[index + 1 :]
        self.status = "T"  # a failure while redoing the kept writes fails the block again
        await self._off_loop(lambda: self._engine.rollback(transaction, keep=mark))
        return Outcome("ROLLBACK")

    def _find(self, name: str) -> int:
        """The most recent savepoint of that name (Postgres allows the same name twice)."""
        for index in range(len(self._savepoints) - 1, -1, -1):
            if self._savepoints[index][0] == name:
                return index
        raise InvalidSavepointSpecification(f'savepoint "{name}" does not exist')


def _warning(message: str, sqlstate: str) -> Notice:
    return Notice(message, severity="WARNING", sqlstate=sqlstate)
