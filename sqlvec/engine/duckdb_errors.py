"""DuckDB exceptions as Postgres errors with the nearest SQLSTATE."""

from __future__ import annotations

import re

import duckdb

from sqlvec import errors

_MISSING_TABLE = re.compile(r"Table with name (\S+) does not exist")
_MISSING_COLUMN = re.compile(r'Referenced column "?([^"\s]+)"? not found')
# pgvector's dimension checks, raised through DuckDB's error() by vector_aggregates.py.
_VECTOR_DIMENSIONS = re.compile(
    r"^(expected \d+ dimensions, not \d+|different vector dimensions"
    r"|vector must have at least 1 dimension)"
)
_OVERFLOW = "value out of range: overflow"  # pgvector's, raised by vector_sql's arithmetic
_MISSING_FUNCTION = re.compile(
    r"(?:Scalar|Table|Aggregate) Function with name (\S+) does not exist"
)


def translate(exc: duckdb.Error) -> errors.SqlvecError:
    text = _first_line(str(exc))
    if match := _MISSING_TABLE.search(text):
        return errors.UndefinedTable(f'relation "{match.group(1).rstrip("!")}" does not exist')
    if match := _MISSING_COLUMN.search(text):
        return errors.UndefinedColumn(f'column "{match.group(1)}" does not exist')
    if _VECTOR_DIMENSIONS.match(text):
        return errors.DataException(text)
    if text.startswith(_OVERFLOW):
        return errors.NumericValueOutOfRange(_OVERFLOW)
    if match := _MISSING_FUNCTION.search(text):
        return errors.UndefinedFunction(f"function {match.group(1).rstrip('!')} does not exist")
    if isinstance(exc, duckdb.TransactionException):
        return _transaction_error(text)
    for kind, error_class in _BY_CLASS:
        if isinstance(exc, kind):
            return error_class(text)
    return errors.InternalError(text)


def _transaction_error(text: str) -> errors.SqlvecError:
    """Two open transaction blocks that wrote the same row, or a COMMIT that lost to another."""
    if "constraint violation" in text.lower():
        # Both blocks inserted the same id: the later COMMIT fails, as Postgres' second insert.
        detail = text.split(": ", 1)[-1]
        return errors.UniqueViolation(
            "duplicate key value violates unique constraint", detail=detail[:1].upper() + detail[1:]
        )
    if "conflict" in text.lower():
        return errors.SerializationFailure(
            "could not serialize access due to concurrent update",
            detail=f"DuckDB: {text}",
        )
    return errors.InFailedTransaction(text)


def _first_line(text: str) -> str:
    # DuckDB prefixes the class ("Binder Error: ...") and appends a caret diagram.
    line = text.strip().splitlines()[0] if text.strip() else text
    return re.sub(r"^[A-Za-z ]+Error: ", "", line)


_BY_CLASS: tuple[tuple[type[duckdb.Error], type[errors.SqlvecError]], ...] = (
    (duckdb.ParserException, errors.SyntaxError),
    (duckdb.CatalogException, errors.UndefinedObject),
    (duckdb.BinderException, errors.DatatypeMismatch),
    (duckdb.ConversionException, errors.InvalidTextRepresentation),
    (duckdb.OutOfRangeException, errors.NumericValueOutOfRange),
    (duckdb.ConstraintException, errors.UniqueViolation),
    (duckdb.InvalidInputException, errors.InvalidParameterValue),
    (duckdb.NotImplementedException, errors.FeatureNotSupported),
    (duckdb.TransactionException, errors.InFailedTransaction),
)
