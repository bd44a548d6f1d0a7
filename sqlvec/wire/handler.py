"""The contract between the wire layer and the session that serves a connection.

The wire layer decodes messages, decodes Bind parameters into Python values (using the
parameter types the handler reports for the statement) and encodes result rows in the formats
the client asked for. Everything else - parsing, planning, executing, statement and portal
bookkeeping, transaction status - is the handler's.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sqlvec.errors import Notice
from sqlvec.types import PgType
from sqlvec.wire.copy import CopyStream

TransactionStatus = Literal["I", "T", "E"]
Row = tuple[Any, ...]


@dataclass(frozen=True)
class ColumnDesc:
    """One RowDescription field."""

    name: str
    type: PgType
    typmod: int = -1  # vector(d): d, as pgvector
    table_oid: int = 0
    column_number: int = 0


@dataclass
class StatementDesc:
    """What Describe(statement) answers: ParameterDescription, then RowDescription or NoData."""

    param_types: list[PgType]
    columns: list[ColumnDesc] | None  # None: the statement returns no rows (NoData)


@dataclass
class QueryResult:
    """The outcome of one statement (or one Execute of a portal).

    `tag` is the CommandComplete tag (`SELECT 3`, `INSERT 0 2`, `CREATE TABLE`); None means the
    portal was suspended by the Execute row limit and more rows remain (PortalSuspended).
    `columns` is None for statements that return no rows; in the simple protocol the wire layer
    sends RowDescription from it.
    """

    tag: str | None
    columns: list[ColumnDesc] | None = None
    rows: Sequence[Row] = ()
    notices: list[Notice] = field(default_factory=list)
    # ParameterStatus messages to send after this statement (e.g. after SET application_name).
    parameter_status: dict[str, str] = field(default_factory=dict)
    empty_query: bool = False  # EmptyQueryResponse instead of CommandComplete
    # COPY FROM STDIN / TO STDOUT: the wire layer runs the COPY sub-protocol with this stream,
    # then sends CommandComplete with the tag it returns (`tag` and `rows` are not used).
    copy: CopyStream | None = None


class QueryHandler(Protocol):
    """A connection's session. Methods raise `sqlvec.errors.SqlvecError` for client errors."""

    def startup(self, params: dict[str, str]) -> dict[str, str]:
        """Accept the StartupMessage parameters; return the ParameterStatus values to send."""

    @property
    def transaction_status(self) -> TransactionStatus: ...

    @property
    def backend_key(self) -> tuple[int, int]:
        """(process id, secret key) for BackendKeyData."""

    def simple_query(self, sql: str) -> AsyncGenerator[QueryResult, None]:
        """Run every statement of a Query message in order, yielding one result per statement.

        An empty query string yields one result with `empty_query=True`. On error the iterator
        raises; the wire layer sends ErrorResponse and stops consuming it.
        """

    async def parse(self, name: str, sql: str, param_oids: list[int]) -> None:
        """Parse: create (or replace, when unnamed) a prepared statement."""

    def describe_statement(self, name: str) -> StatementDesc: ...

    def bind(
        self,
        portal: str,
        statement: str,
        params: list[Any],
        result_formats: list[int],
    ) -> None:
        """Bind: create a portal from a statement and decoded parameter values.

        `result_formats` is already expanded to one entry per result column.
        """

    def describe_portal(self, portal: str) -> list[ColumnDesc] | None: ...

    def run_pipelined(self, statement: str, params: list[Any]) -> QueryResult | None:
        """Bind `statement` to the unnamed portal, Execute it for all rows and Sync, in one
        call (see `sqlvec.wire.pipelined`): the result, with no notices, parameter changes or
        COPY, when this is sure to be what the three steps would give; None to decline. May
        raise as they would; the wire layer then takes the three steps."""

    def portal_result_formats(self, portal: str) -> list[int]: ...

    async def execute(self, portal: str, max_rows: int) -> QueryResult:
        """Execute: run (or continue) a portal; max_rows 0 means all remaining rows."""

    def close_statement(self, name: str) -> None: ...

    def close_portal(self, name: str) -> None: ...

    async def sync(self) -> None:
        """Sync: end the implicit transaction of the extended protocol (commit it). An error
        raised here (the commit failed) is sent before ReadyForQuery."""

    def error_occurred(self) -> None:
        """Called after an ErrorResponse: a transaction block becomes failed ('E'), an implicit
        one is rolled back."""

    def terminate(self) -> None:
        """The connection is closing (Terminate or EOF)."""
