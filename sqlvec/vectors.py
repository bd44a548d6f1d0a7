"""The `vector` and `halfvec` types' value semantics, as pgvector defines them: text form,
checks, messages.

Shared by the wire codecs (parameters in text format), the planner (literals in SQL text) and
the engine (dimension checks on insert). Values are 1-D numpy float32 arrays; a halfvec's
components are float16 values held as float32 (its text form is the same as vector's).
"""

from __future__ import annotations

import array
import re

import numpy as np
import orjson

from sqlvec.errors import (
    DataException,
    InvalidTextRepresentation,
    NumericValueOutOfRange,
    ProgramLimitExceeded,
)
from sqlvec.floats import float4_text

MAX_DIM = 16000  # pgvector's VECTOR_MAX_DIM

# What C's strtof accepts for one element, which is what pgvector's vector_in uses.
_NUMBER = r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|nan|inf(?:inity)?)"
_LIST = re.compile(rf"\s*{_NUMBER}\s*(?:,\s*{_NUMBER}\s*)*", re.IGNORECASE)
# Plain decimal numbers only: the common case, parsed by float() without the full grammar.
_PLAIN = re.compile(r"[0-9eE+\-., \t\n\r]*")
# `-0` as an integer: JSON reads it as the integer 0, losing the sign a float keeps.
_NEGATIVE_INTEGER_ZERO = re.compile(r"-0+(?![0-9.eE])")
# Doubles from here up round to infinity as float32 (FLT_MAX plus half an ulp); below it strtof,
# which pgvector's vector_in uses, rounds to a finite float (3.4028235e+38, FLT_MAX's own text
# form, is just above FLT_MAX as a double).
_FLOAT32_OVERFLOW = float(np.finfo(np.float32).max) + 2.0**103


_HALF_OVERFLOW = 65520.0  # float16's max (65504) plus half an ulp: rounds to infinity


def parse_vector(
    text: str, expected_dim: int | None = None, type_name: str = "vector"
) -> np.ndarray:
    """Parse pgvector's text form `[1,2,3]` into a float32 array, with pgvector's errors."""
    stripped = text.strip()
    if not stripped.startswith("["):
        raise InvalidTextRepresentation(
            f'invalid input syntax for type {type_name}: "{text}"',
            detail='Vector contents must start with "[".',
        )
    if not stripped.endswith("]"):
        raise InvalidTextRepresentation(f'invalid input syntax for type {type_name}: "{text}"')
    inner = stripped[1:-1]
    if not inner.strip():
        raise DataException(f"{type_name} must have at least 1 dimension")
    try:
        values = _plain_values(inner)
    except _Overflow:
        raise NumericValueOutOfRange(f'"{text}" is out of range for type {type_name}') from None
    if values is None:
        if not _LIST.fullmatch(inner):
            raise InvalidTextRepresentation(f'invalid input syntax for type {type_name}: "{text}"')
        values = np.array(inner.split(","), dtype=np.float64)
    if type_name == "halfvec":
        return checked_halfvec(values, expected_dim, text)
    return checked_vector(values, expected_dim, text)


def checked_halfvec(
    values: np.ndarray, expected_dim: int | None = None, text: str | None = None
) -> np.ndarray:
    """Validate a candidate halfvec and round it to float16 (held as float32)."""
    values = np.asarray(values)
    _check_shape_and_finite(values, "halfvec")
    if np.abs(values).max() >= _HALF_OVERFLOW:
        shown = text if text is not None else format_vector(values)
        raise NumericValueOutOfRange(f'"{shown}" is out of range for type halfvec')
    check_dimension(values.shape[0], expected_dim)
    return values.astype(np.float16).astype(np.float32)


def all_finite(values: np.ndarray) -> bool:
    """No element NaN or infinite. (`count_nonzero` is one C call; `ndarray.all()` goes
    through numpy's Python wrapper, twice the time on a query vector, which is checked on
    every search.)"""
    return bool(np.count_nonzero(np.isfinite(values)) == values.size)


def _check_shape_and_finite(values: np.ndarray, type_name: str) -> None:
    if values.ndim != 1:
        raise DataException(f"{type_name} must be one-dimensional")
    if values.shape[0] < 1:
        raise DataException(f"{type_name} must have at least 1 dimension")
    if values.shape[0] > MAX_DIM:
        raise ProgramLimitExceeded(f"{type_name} cannot have more than {MAX_DIM} dimensions")
    if not all_finite(values):
        if np.isnan(values).any():
            raise DataException(f"NaN not allowed in {type_name}")
        raise DataException(f"infinite value not allowed in {type_name}")


def _plain_values(inner: str) -> np.ndarray | None:
    """The elements when they are plain decimals (no NaN/Infinity spellings), else None."""
    if not _PLAIN.fullmatch(inner):
        return None
    if not _NEGATIVE_INTEGER_ZERO.search(inner):
        # JSON's numbers are the common spelling of strtof's; orjson reads them correctly
        # rounded, 6x faster than float() per element (a query vector is parsed per query).
        # What JSON refuses (`1.`, `.5`, `+1`, `01`, out of range) takes the path below.
        try:
            return np.array(orjson.loads(f"[{inner}]"), dtype=np.float64)
        except (orjson.JSONDecodeError, OverflowError, ValueError):
            pass
    try:
        # float() accepts what strtof does for plain decimals; `_PLAIN` rules out the rest
        # (underscores, words).
        values = np.array(list(map(float, inner.split(","))), dtype=np.float64)
    except ValueError:
        return None
    if np.isinf(values).any():
        raise _Overflow  # no word spells infinity here: a number beyond double's range
    return values


# The bytes of a vector's text that needs nothing beyond JSON's number syntax to read.
_PLAIN_BYTES = b"0123456789eE+-., \t\n\r"


def parse_plain_vector(data: bytes) -> np.ndarray | None:
    """A query vector's text as sent by a client (`[0.1,-2,3e-5]`) read in one pass: the
    values when they are plain JSON numbers and make a valid vector, else None, for
    `parse_vector` to read the text and say what is wrong with it."""
    # Deleting the allowed bytes leaves the brackets alone exactly when nothing else is there:
    # no words (NaN, Infinity, JSON's true/null), no quotes or nesting.
    text = data.strip()
    if text[:1] != b"[" or text[-1:] != b"]" or data.translate(None, _PLAIN_BYTES) != b"[]":
        return None
    try:
        values = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None  # `1.`, `.5`, `+1`, `01`: strtof's spellings that JSON lacks
    if not values or len(values) > MAX_DIM:
        return None
    # array's float conversion is C's cast: beyond float32's range a value becomes infinite
    # silently, where numpy would warn (and an errstate to quiet it costs a microsecond).
    vector = np.frombuffer(array.array("f", values), np.float32)
    if not all_finite(vector):
        return None  # beyond float32's range
    if np.count_nonzero(vector) < len(vector) and _NEGATIVE_INTEGER_ZERO.search(text.decode()):
        return None  # `-0` read as the integer 0 would lose its sign
    return vector


class _Overflow(Exception):
    """An element beyond the range of a double (strtof's ERANGE)."""


def checked_vector(
    values: np.ndarray, expected_dim: int | None = None, text: str | None = None
) -> np.ndarray:
    """Validate a candidate vector (finite, in float32 range, dimension) and return float32."""
    values = np.asarray(values)
    _check_shape_and_finite(values, "vector")
    if values.dtype != np.float32 and np.abs(values).max() >= _FLOAT32_OVERFLOW:
        shown = text if text is not None else format_vector(values)
        raise NumericValueOutOfRange(f'"{shown}" is out of range for type vector')
    check_dimension(values.shape[0], expected_dim)
    return values.astype(np.float32, copy=False)


def check_dimension(actual: int, expected: int | None) -> None:
    """A value stored in a `vector(d)` column must have d dimensions."""
    if expected is not None and actual != expected:
        raise DataException(f"expected {expected} dimensions, not {actual}")


def check_same_dimensions(a: int, b: int, type_name: str = "vector") -> None:
    """Distance operators need operands of one dimension."""
    if a != b:
        if type_name == "bit":
            raise DataException(f"different bit lengths {a} and {b}")
        raise DataException(f"different {type_name} dimensions {a} and {b}")


def format_vector(values: np.ndarray) -> str:
    """pgvector's text output: `[1,2.5,3]`, each element as Postgres prints a float4."""
    return "[" + ",".join(map(float4_text, np.asarray(values, dtype=np.float32))) + "]"
