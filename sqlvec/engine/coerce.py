"""Coercion of incoming values to a column's type, with Postgres' errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from sqlvec.engine.catalog import ColumnSpec
from sqlvec.errors import (
    DatatypeMismatch,
    InvalidTextRepresentation,
    NumericValueOutOfRange,
    StringDataRightTruncation,
)
from sqlvec.types import BOOL, FLOAT4, FLOAT8, INT2, INT4, INT8, TEXT, VARCHAR
from sqlvec.vector_kinds import coerce_vector_value

_INTEGER_RANGES = {
    INT2.oid: ("smallint", -(2**15), 2**15 - 1),
    INT4.oid: ("integer", -(2**31), 2**31 - 1),
    INT8.oid: ("bigint", -(2**63), 2**63 - 1),
}
_TRUE = {"t", "true", "y", "yes", "on", "1"}
_FALSE = {"f", "false", "n", "no", "off", "0"}


def coercer(column: ColumnSpec, explicit: bool = False) -> Callable[[Any], Any]:
    """A function turning a non-NULL value into the column's Python representation; with
    `explicit`, as a cast (`::varchar(3)` truncates where assignment fails)."""
    oid = column.type.oid
    if column.is_vector:
        return lambda value: coerce_vector_value(column.type, value, column.dim)
    if oid in _INTEGER_RANGES:
        return lambda value: _to_integer(value, *_INTEGER_RANGES[oid])
    if oid in (FLOAT4.oid, FLOAT8.oid):
        return _to_float
    if oid == BOOL.oid:
        return _to_bool
    if oid in (TEXT.oid, VARCHAR.oid) and column.max_length is not None:
        fit = length_check(column.max_length, explicit)
        return lambda value: fit(_to_text(value))
    if oid in (TEXT.oid, VARCHAR.oid):
        return _to_text
    return lambda value: value


def length_check(length: int, explicit: bool = False) -> Callable[[str], str]:
    """varchar(n) as Postgres applies it: a longer value is an error on assignment, unless only
    spaces are cut (they are dropped silently), and is truncated by an explicit cast."""

    def fit(text: str) -> str:
        if len(text) <= length:
            return text
        if explicit or not text[length:].strip(" "):
            return text[:length]
        raise StringDataRightTruncation(f"value too long for type character varying({length})")

    return fit


def _to_integer(value: Any, type_name: str, low: int, high: int) -> int:
    if isinstance(value, bool | np.bool_):
        raise DatatypeMismatch(f"column is of type {type_name} but expression is of type boolean")
    if isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            raise InvalidTextRepresentation(
                f'invalid input syntax for type {type_name}: "{value}"'
            ) from None
    elif isinstance(value, float | np.floating):
        if not np.isfinite(value):
            raise NumericValueOutOfRange(f"{type_name} out of range")
        number = int(np.rint(value))  # Postgres rounds on assignment of a float to an integer
    elif isinstance(value, int | np.integer):
        number = int(value)
    else:
        raise DatatypeMismatch(
            f"column is of type {type_name} but expression is of type {_kind(value)}"
        )
    if not low <= number <= high:
        raise NumericValueOutOfRange(f"{type_name} out of range")
    return number


def _to_float(value: Any) -> float:
    if isinstance(value, bool | np.bool_):
        raise DatatypeMismatch("column is of type double precision but expression is boolean")
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise InvalidTextRepresentation(
                f'invalid input syntax for type double precision: "{value}"'
            ) from None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    raise DatatypeMismatch(
        f"column is of type double precision but expression is of type {_kind(value)}"
    )


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise InvalidTextRepresentation(f'invalid input syntax for type boolean: "{value}"')
    raise DatatypeMismatch(f"column is of type boolean but expression is of type {_kind(value)}")


def _to_text(value: Any) -> str:
    if isinstance(value, np.ndarray):
        raise DatatypeMismatch("column is of type text but expression is of type vector")
    return value if isinstance(value, str) else str(value)


def _kind(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return "vector"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "double precision"
    return "text"
