"""A connection's session: statements, portals, settings, transaction status.

Implements `sqlvec.wire.handler.QueryHandler`. Parsing and planning happen once per prepared
statement (and once per SQL text for the unnamed statement, through a small cache); each
Execute only evaluates the plan with new parameters, on a worker thread.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlglot import exp

from sqlvec import parser, planner
from sqlvec.copy.streams import copy_stream, is_copy
from sqlvec.engine.cancel import CancelScope
from sqlvec.engine.engine import Engine
from sqlvec.engine.executor import Outcome, describe, execute, is_quick
from sqlvec.errors import (
    DuplicatePreparedStatement,
    InvalidCursorName,
    InvalidSqlStatementName,
    SyntaxError,
    UndefinedParameter,
)
from sqlvec.planner.plans import OutputColumn, Plan
from sqlvec.planner.values import parameter_index
from sqlvec.session_cancel import RunningStatement
from sqlvec.session_commands import SessionObjects, session_command
from sqlvec.session_statements import SessionStatements, is_session_statement
from sqlvec.session_transaction import TRANSACTION_NODES, TransactionBlock, searched_collections
from sqlvec.settings import SERVER_VERSION
from sqlvec.wire.copy import CopyStream
from sqlvec.wire.handler import ColumnDesc, QueryResult, StatementDesc, TransactionStatus

log = logging.getLogger("sqlvec.session")
T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")
CACHE_SIZE = 256  # SQL texts whose statements and plans a session keeps


@dataclass
class Prepared:
    sql: str
    statement: exp.Expr | None  # None: empty query
    param_oids: list[int]
    plan: Plan | None  # None for session statements and the empty query
    catalog_version: int
    columns: list[ColumnDesc] | None = None
    columns_known: bool = False
    # The plan with vector searches run exactly in DuckDB: for a block that wrote the collection.
    exact: Plan | None = None


@dataclass
class Portal:
    prepared: Prepared
    params: list[Any]
    result_formats: list[int]
    outcome: Outcome | None = None
    sent: int = 0
    columns: list[ColumnDesc] | None = field(default=None)


class Session:
    def __init__(self, engine: Engine, pool: Executor, process_id: int) -> None:
        self._engine = engine
        self._pool = pool
        self._backend_key = (process_id, secrets.randbits(31))
        self._statements: dict[str, Prepared] = {}
        self._portals: dict[str, Portal] = {}
        self._ast_cache: OrderedDict[str, list[exp.Expr]] = OrderedDict()
        self._plan_cache: OrderedDict[tuple[str, int, tuple[int, ...]], Prepared] = OrderedDict()
        self._session = SessionStatements()
        self._block = TransactionBlock(engine, self._off_loop, self._session.end_block)
        self._objects = SessionObjects(self._statements, self._portals)
        self._user = "sqlvec"
        self._database = "sqlvec"
        self._running = RunningStatement()  # what a CancelRequest or statement_timeout stops

    # QueryHandler: connection

    def startup(self, params: dict[str, str]) -> dict[str, str]:
        self._user = params.get("user", self._user)
        self._database = params.get("database", self._user)
        return self._session.startup(params, self._user)

    @property
    def transaction_status(self) -> TransactionStatus:
        return self._block.status

    @property
    def backend_key(self) -> tuple[int, int]:
        return self._backend_key

    def terminate(self) -> None:
        self._running.end()
        self._block.abandon()
        self._statements.clear()
        self._portals.clear()

    def cancel(self) -> None:
        """A CancelRequest with this session's key: stop the statement running now, if any."""
        self._running.cancel()

    # simple query

    async def simple_query(self, sql: str) -> AsyncGenerator[QueryResult, None]:
        statements = self._parse(sql)
        if not statements:
            yield QueryResult(tag=None, empty_query=True)
            return
        if len(statements) > 1:
            # Several statements: one implicit transaction, as in Postgres.
            self._block.begin_implicit()
        try:
            for index, statement in enumerate(statements):
                # Planned just before it runs: an earlier statement may create what it uses.
                prepared = self._prepare(sql, index, statement, [])
                _check_no_parameters(prepared)
                portal = Portal(prepared, [], [])
                yield await self._run_portal(portal, 0, describe_rows=True)
        except BaseException:
            await self._block.end_implicit(commit=False)
            raise
        await self._block.end_implicit(commit=True)

    # extended query

    async def parse(self, name: str, sql: str, param_oids: list[int]) -> None:
        if name and name in self._statements:
            raise DuplicatePreparedStatement(f'prepared statement "{name}" already exists')
        statements = self._parse(sql)
        if len(statements) > 1:
            raise SyntaxError("cannot insert multiple commands into a prepared statement")
        statement = statements[0] if statements else None
        self._statements[name] = self._prepare(sql, 0, statement, param_oids)

    def describe_statement(self, name: str) -> StatementDesc:
        prepared = self._statement(name)
        param_types = prepared.plan.param_types if prepared.plan else []
        return StatementDesc(param_types, self._columns(prepared))

    def bind(
        self, portal: str, statement: str, params: list[Any], result_formats: list[int]
    ) -> None:
        prepared = self._fresh(self._statement(statement))
        if statement:
            self._statements[statement] = prepared
        self._portals[portal] = Portal(prepared, params, result_formats)

    def run_pipelined(self, statement: str, params: list[Any]) -> QueryResult | None:
        """Bind, Execute and Sync in one call: only for a read that runs on the event loop
        (`is_quick`) outside any transaction block, whose plan is current. Then the portal the
        steps would make and drop, the implicit block they would not open, and the Sync that
        would find nothing to commit change nothing, so leaving them out gives what they give."""
        prepared = self._statements.get(statement)
        if prepared is None or prepared.plan is None or self._block.transaction is not None:
            return None
        if self._block.status != "I" or prepared.catalog_version != self._engine.catalog_version:
            return None
        node = prepared.plan.node
        if not is_quick(self._engine, node):
            return None
        # No cancel scope: a statement that runs to its end on the event loop, never yielding
        # it, cannot be reached by a CancelRequest or a statement_timeout (both come through
        # the loop), so a scope would only be made and dropped.
        outcome = execute(self._engine, node, params, self._session.search_settings())
        if outcome.notices or outcome.parameter_status:
            return None  # sent the usual way, which runs the statement again
        columns = prepared.columns if prepared.columns_known else self._columns(prepared)
        return QueryResult(outcome.tag, columns, outcome.rows)

    def describe_portal(self, portal: str) -> list[ColumnDesc] | None:
        return self._columns(self._portal(portal).prepared)

    def portal_result_formats(self, portal: str) -> list[int]:
        return self._portal(portal).result_formats

    async def execute(self, portal: str, max_rows: int) -> QueryResult:
        found = self._portal(portal)
        if found.prepared.plan is not None:
            # The Executes before a Sync are one implicit transaction (from the first write).
            self._block.begin_for_execute(found.prepared.plan.node)
        return await self._run_portal(found, max_rows, describe_rows=False)

    def close_statement(self, name: str) -> None:
        self._statements.pop(name, None)

    def close_portal(self, name: str) -> None:
        self._portals.pop(name, None)

    async def sync(self) -> None:
        if self._block.status == "I":
            # Outside a transaction block, Sync ends the implicit transaction: portals go, and
            # its writes commit (after an error, error_occurred already rolled them back).
            self._portals.clear()
            await self._block.end_implicit(commit=True)

    def error_occurred(self) -> None:
        self._block.fail()

    # internals

    def _parse(self, sql: str) -> list[exp.Expr]:
        """The statements of a SQL text, parsed once per text (plans copy, never mutate, them)."""
        statements = _lru_get(self._ast_cache, sql)
        if statements is None:
            statements = parser.parse(sql)
            _lru_put(self._ast_cache, sql, statements)
        return statements

    def _prepare(
        self, sql: str, index: int, statement: exp.Expr | None, param_oids: list[int]
    ) -> Prepared:
        """The plan of statement `index` of `sql`, from the cache when this text was seen."""
        key = (sql, index, tuple(param_oids))
        cached = _lru_get(self._plan_cache, key)
        if cached is not None:
            return self._fresh(cached)
        prepared = self._plan(sql, statement, param_oids)
        _lru_put(self._plan_cache, key, prepared)
        return prepared

    def _plan(self, sql: str, statement: exp.Expr | None, param_oids: list[int]) -> Prepared:
        version = self._engine.catalog_version
        if statement is None or _answered_by_session(statement):
            return Prepared(sql, statement, param_oids, None, version)
        plan = planner.plan(statement, self._engine, param_oids, self._constants())
        return Prepared(sql, statement, param_oids, plan, version)

    def _fresh(self, prepared: Prepared) -> Prepared:
        """Plan again when DDL ran since the plan was made (the AST is reused, not reparsed)."""
        if prepared.catalog_version == self._engine.catalog_version:
            return prepared
        replanned = self._plan(prepared.sql, prepared.statement, prepared.param_oids)
        if prepared.plan and replanned.plan:
            replanned.plan.param_types[: len(prepared.plan.param_types)] = prepared.plan.param_types
        return replanned

    async def _run_portal(self, portal: Portal, max_rows: int, describe_rows: bool) -> QueryResult:
        prepared = portal.prepared
        if prepared.statement is None:
            return QueryResult(tag=None, empty_query=True)
        if portal.outcome is None and prepared.plan is not None and is_copy(prepared.plan.node):
            return QueryResult("COPY", copy=self._copy(prepared, portal.params))
        if portal.outcome is None:
            portal.outcome = await self._outcome(prepared, portal.params)
        outcome = portal.outcome
        columns = _column_descs(outcome.columns)
        rows: Sequence[Any] = outcome.rows
        if max_rows > 0 and portal.sent + max_rows < len(rows):
            chunk = rows[portal.sent : portal.sent + max_rows]
            portal.sent += max_rows
            return QueryResult(None, columns if describe_rows else None, chunk, outcome.notices)
        chunk = rows[portal.sent :] if portal.sent else rows
        portal.sent = len(rows)
        return QueryResult(
            outcome.tag,
            columns if describe_rows or columns is not None else None,
            chunk,
            outcome.notices,
            parameter_status=outcome.parameter_status,
        )

    async def _outcome(self, prepared: Prepared, params: list[Any]) -> Outcome:
        statement = prepared.statement
        assert statement is not None
        if prepared.plan is None:  # answered by the session itself (see _answered_by_session)
            if isinstance(statement, TRANSACTION_NODES):
                return await self._block.run(statement)
            self._block.check_not_failed()
            if is_session_statement(statement):
                return self._session.run(statement, self._block.in_block)
            command = session_command(statement)
            assert command is not None
            changed = self._session.settings.reset("all") if command.verb == "DISCARD" else {}
            return Outcome(self._objects.run(command), parameter_status=changed)
        self._block.check_not_failed()
        node = self._node(self._fresh(prepared))
        self._block.notices = []
        transaction = await self._block.transaction_for(node)
        settings = self._session.search_settings()
        run: Callable[[], Outcome] = lambda: execute(self._engine, node, params, settings)  # noqa: E731
        if transaction is not None:
            run = functools.partial(self._engine.run_in, transaction, run)
        with self._statement_scope() as scope:
            work = lambda: scope.run(run)  # noqa: E731
            if is_quick(self._engine, node):
                # A hop to the worker pool and back costs ~0.1 ms: more than a small search.
                outcome = work()
            else:
                outcome = await self._off_loop(work)
        if self._block.notices:
            outcome.notices[:0], self._block.notices = self._block.notices, []
        return outcome

    @contextmanager
    def _statement_scope(self) -> Iterator[CancelScope]:
        """The running statement's cancel scope, `statement_timeout` armed; over on exit."""
        scope = self._running.begin(self._session.statement_timeout_ms())
        try:
            yield scope
        finally:
            self._running.end()

    def _node(self, prepared: Prepared) -> object:
        """The plan node to run: the prepared plan, or inside a transaction block that wrote
        the searched collection, the same query run exactly by DuckDB (which alone sees the
        block's rows)."""
        assert prepared.plan is not None and prepared.statement is not None
        node = prepared.plan.node
        transaction = self._block.transaction
        if transaction is None or not transaction.log:
            return node
        if not searched_collections(node) & transaction.written:
            return node
        if prepared.exact is None:
            prepared.exact = planner.plan(
                prepared.statement, self._engine, prepared.param_oids, self._constants(), True
            )
        return prepared.exact.node

    def _copy(self, prepared: Prepared, params: list[Any]) -> CopyStream:
        """COPY is not run here: it is a stream that the wire layer drives (sqlvec.copy)."""
        self._block.check_not_failed()
        prepared = self._fresh(prepared)
        assert prepared.plan is not None
        settings = self._session.search_settings()
        transaction = self._block.transaction
        # The COPY's steps run in one scope, which lasts until the next statement begins.
        scope = self._running.begin(self._session.statement_timeout_ms())

        async def off_loop(work: Callable[[], T]) -> T:
            # COPY inside a block is part of it: its reads and writes go through the block.
            if transaction is not None:
                work = functools.partial(self._engine.run_in, transaction, work)
            return await self._off_loop(lambda: scope.run(work))

        return copy_stream(self._engine, prepared.plan.node, params, settings, off_loop)

    def _columns(self, prepared: Prepared) -> list[ColumnDesc] | None:
        if prepared.statement is None:
            return None
        if prepared.plan is None:  # answered by the session itself
            if is_session_statement(prepared.statement):
                return _column_descs(self._session.describe(prepared.statement))
            return None
        prepared = self._fresh(prepared)
        node = self._node(prepared)
        if prepared.plan is not None and node is not prepared.plan.node:
            return _column_descs(describe(self._engine, node))
        if not prepared.columns_known:
            assert prepared.plan is not None
            prepared.columns = _column_descs(describe(self._engine, prepared.plan.node))
            prepared.columns_known = True
        return prepared.columns

    def _statement(self, name: str) -> Prepared:
        try:
            return self._statements[name]
        except KeyError:
            raise InvalidSqlStatementName(f'prepared statement "{name}" does not exist') from None

    def _portal(self, name: str) -> Portal:
        try:
            return self._portals[name]
        except KeyError:
            raise InvalidCursorName(f'portal "{name}" does not exist') from None

    def _constants(self) -> dict[str, str]:
        return {
            "version": f"PostgreSQL {SERVER_VERSION} on x86_64-pc-linux-gnu, sqlvec",
            "current_database": self._database,
            "current_schema": "public",
            "current_user": self._user,
            "session_user": self._user,
            "user": self._user,
            "pg_backend_pid": str(self._backend_key[0]),
        }

    async def _off_loop(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, work)


def _answered_by_session(statement: exp.Expr) -> bool:
    """Statements without a plan: transactions, settings, commands on session objects."""
    return (
        isinstance(statement, TRANSACTION_NODES)
        or is_session_statement(statement)
        or session_command(statement) is not None
    )


def _lru_get(cache: OrderedDict[K, V], key: K) -> V | None:
    value = cache.get(key)
    if value is not None:
        cache.move_to_end(key)
    return value


def _lru_put(cache: OrderedDict[K, V], key: K, value: V) -> None:
    cache[key] = value
    if len(cache) > CACHE_SIZE:
        cache.popitem(last=False)


def _column_descs(columns: list[OutputColumn] | None) -> list[ColumnDesc] | None:
    if columns is None:
        return None
    return [ColumnDesc(c.name, c.type, c.typmod) for c in columns]


def _check_no_parameters(prepared: Prepared) -> None:
    """A simple query has no way to pass `$n` values (Postgres refuses it before it runs)."""
    if prepared.plan is None or not prepared.plan.param_types:
        return
    assert prepared.statement is not None
    first = prepared.statement.find(exp.Parameter, exp.Placeholder)
    number = 1
    if isinstance(first, exp.Parameter | exp.Placeholder):
        number = parameter_index(first) + 1
    raise UndefinedParameter(f"there is no parameter ${number}")
