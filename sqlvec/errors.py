"""One exception hierarchy for everything a client can see.

Each class carries its SQLSTATE. `error_fields` is the only place that turns an exception into
the fields of an ErrorResponse / NoticeResponse; the wire layer encodes those fields as bytes.
"""

from __future__ import annotations

from dataclasses import dataclass


class SqlvecError(Exception):
    """Base class: an error a client receives as ErrorResponse."""

    sqlstate = "XX000"
    severity = "ERROR"

    def __init__(
        self,
        message: str,
        *,
        detail: str | None = None,
        hint: str | None = None,
        position: int | None = None,
        context: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.hint = hint
        # 1-based character offset into the query text, as Postgres' 'P' field.
        self.position = position
        # Where it happened, as Postgres' 'W' field (`COPY docs, line 3, column id: "x"`).
        self.context = context


class SyntaxError(SqlvecError):
    sqlstate = "42601"


class UndefinedTable(SqlvecError):
    sqlstate = "42P01"


class UndefinedColumn(SqlvecError):
    sqlstate = "42703"


class UndefinedFunction(SqlvecError):
    sqlstate = "42883"


class UndefinedParameter(SqlvecError):
    sqlstate = "42P02"


class InvalidColumnReference(SqlvecError):
    sqlstate = "42P10"


class UndefinedObject(SqlvecError):
    sqlstate = "42704"


class DuplicateTable(SqlvecError):
    sqlstate = "42P07"


class DuplicateColumn(SqlvecError):
    sqlstate = "42701"


class DatatypeMismatch(SqlvecError):
    sqlstate = "42804"


class IndeterminateDatatype(SqlvecError):
    sqlstate = "42P18"


class InvalidTextRepresentation(SqlvecError):
    sqlstate = "22P02"


class DataException(SqlvecError):
    sqlstate = "22000"


class StringDataRightTruncation(SqlvecError):
    sqlstate = "22001"


class StringDataLengthMismatch(SqlvecError):
    sqlstate = "22026"


class NumericValueOutOfRange(SqlvecError):
    sqlstate = "22003"


class InvalidParameterValue(SqlvecError):
    sqlstate = "22023"


class NotNullViolation(SqlvecError):
    sqlstate = "23502"


class UniqueViolation(SqlvecError):
    sqlstate = "23505"


class FeatureNotSupported(SqlvecError):
    sqlstate = "0A000"


class InFailedTransaction(SqlvecError):
    sqlstate = "25P02"


class InvalidSqlStatementName(SqlvecError):
    sqlstate = "26000"


class InvalidCursorName(SqlvecError):
    sqlstate = "34000"


class DuplicatePreparedStatement(SqlvecError):
    sqlstate = "42P05"


class QueryCanceled(SqlvecError):
    sqlstate = "57014"


class ProtocolViolation(SqlvecError):
    """A broken client: answered with a FATAL ErrorResponse, then the connection closes."""

    sqlstate = "08P01"
    severity = "FATAL"


class InternalError(SqlvecError):
    sqlstate = "XX000"


@dataclass(frozen=True)
class Notice:
    """A NoticeResponse: informational, the statement still succeeds."""

    message: str
    severity: str = "NOTICE"
    sqlstate: str = "00000"
    detail: str | None = None
    hint: str | None = None


def error_fields(exc: SqlvecError | Notice) -> dict[str, str]:
    """Map an error or notice to ErrorResponse/NoticeResponse field codes (S V C M D H P)."""
    fields = {
        "S": exc.severity,
        "V": exc.severity,
        "C": exc.sqlstate,
        "M": exc.message,
    }
    if exc.detail:
        fields["D"] = exc.detail
    if exc.hint:
        fields["H"] = exc.hint
    position = getattr(exc, "position", None)
    if position is not None:
        fields["P"] = str(position)
    context = getattr(exc, "context", None)
    if context:
        fields["W"] = context
    return fields


class ProgramLimitExceeded(SqlvecError):
    sqlstate = "54000"


class DivisionByZero(SqlvecError):
    sqlstate = "22012"


class CantChangeRuntimeParam(SqlvecError):
    sqlstate = "55P02"


class NoActiveSqlTransaction(SqlvecError):
    sqlstate = "25P01"


class StatementTooComplex(SqlvecError):
    sqlstate = "54001"


class InvalidBinaryRepresentation(SqlvecError):
    sqlstate = "22P03"


class CharacterNotInRepertoire(SqlvecError):
    sqlstate = "22021"


class ProtocolError(SqlvecError):
    """A malformed but recoverable message (bad Bind counts): an ERROR, the connection stays."""

    sqlstate = "08P01"


class DuplicateObject(SqlvecError):
    sqlstate = "42710"


class CardinalityViolation(SqlvecError):
    sqlstate = "21000"


class ActiveSqlTransaction(SqlvecError):
    sqlstate = "25001"


class InvalidSavepointSpecification(SqlvecError):
    sqlstate = "3B001"


class ObjectInUse(SqlvecError):
    sqlstate = "55006"


class SerializationFailure(SqlvecError):
    sqlstate = "40001"
