"""Arrays <-> wire bytes: PostgreSQL's array_in/array_out text and array_recv/array_send binary.

The structure of an array - braces, quoting and escaping in text; the header, dimensions and
per-element lengths in binary - lives here. Each element goes through its own type's codec,
which `codecs` hands over as an `ElementCodec`. Every count and length a client sends is checked
against the bytes actually present before anything is allocated for it. Binary data that runs
out is 22P03 here, as for scalars, where PostgreSQL says 08P01 for some fields.

Python values: a list of element values (None for NULL elements), nested lists for
multi-dimensional arrays, [] for an empty array. Lower bounds other than 1 are accepted, as
PostgreSQL accepts them, but not kept.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sqlvec.errors import (
    DataException,
    DatatypeMismatch,
    InvalidBinaryRepresentation,
    InvalidTextRepresentation,
    ProgramLimitExceeded,
    SqlvecError,
)
from sqlvec.wire.buffer import INT32, decode_utf8, field

MAX_DIMENSIONS = 6  # PostgreSQL's MAXDIM
MAX_ARRAY_SIZE = 0x3FFFFFFF // 8  # PostgreSQL's MaxArraySize: MaxAllocSize / sizeof(Datum)
# OIDs below FirstGenbkiObjectId are the same on every server; array_recv only insists on a
# matching element type when both OIDs are such built-in ones (pgvector's OID is not).
_BUILTIN_OID_LIMIT = 10_000

# format_type() of the built-in types a client may name as an element type; "???" for others,
# as PostgreSQL prints OIDs it has no type for.
_TYPE_NAMES = {
    16: "boolean",
    17: "bytea",
    18: '"char"',
    19: "name",
    20: "bigint",
    21: "smallint",
    23: "integer",
    25: "text",
    26: "oid",
    114: "json",
    700: "real",
    701: "double precision",
    705: "unknown",
    1042: "character",
    1043: "character varying",
    1082: "date",
    1083: "time without time zone",
    1114: "timestamp without time zone",
    1184: "timestamp with time zone",
    1700: "numeric",
    2950: "uuid",
    3802: "jsonb",
}

_HEADER = struct.Struct("!iiI")  # ndim, has-null flag, element type OID
_DIMENSION = struct.Struct("!ii")  # length, lower bound
_NULL_TEXT = b"NULL"

_SPACE = " \t\n\r\f\v"  # array_isspace(): C's isspace() in the C locale
_NEEDS_QUOTES = re.compile(rb'[{},"\\ \t\n\r\f\v]')
_ESCAPED = re.compile(rb'(["\\])')
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
# A one-dimensional literal without quotes, escapes or nesting: split on commas directly.
_SIMPLE_LITERAL = re.compile(r'[ \t\n\r\f\v]*\{([^{}"\\]*)\}[ \t\n\r\f\v]*')
_SPACE_CHARACTERS = frozenset(_SPACE)
_BOUND = re.compile(r"[0-9+-]*")
_LEADING_INTEGER = re.compile(r"[+-]?[0-9]+")
_TOKEN = re.compile(
    r"""
      (?P<space>[ \t\n\r\f\v]+)
    | (?P<open>\{)
    | (?P<close>\})
    | (?P<delimiter>,)
    | "(?P<quoted>(?:[^"\\]|\\.)*)"
    | (?P<unterminated>"(?:[^"\\]|\\.)*\\?)
    | (?P<plain>(?:[^{}",\\ \t\n\r\f\v]|\\.)+(?:[ \t\n\r\f\v]+(?:[^{}",\\ \t\n\r\f\v]|\\.)+)*
        (?:[ \t\n\r\f\v]*\\\Z)?)  # a backslash ending the input: "Unexpected end of input."
    | (?P<backslash>\\)
    """,
    re.VERBOSE | re.DOTALL,
)


class WrongBinaryLength(Exception):
    """A binary value of the wrong size; decode_parameter names the parameter."""


class _ArraySubscriptError(SqlvecError):
    sqlstate = "2202E"


@dataclass(frozen=True)
class ElementCodec:
    """How one element type travels, as `ArrayCodec` needs it."""

    oid: int
    decode_text: Callable[[str], Any]
    encode_text: Callable[[Any], bytes]
    decode_binary: Callable[[bytes], Any]  # raises WrongBinaryLength for a bad size
    encode_binary: Callable[[Any], bytes]
    # The big-endian numpy layout of a fixed-size element: bulk paths for arrays without NULLs.
    numpy_dtype: str | None = None
    # False where the text form never holds a character that needs quotes (numbers, bool).
    may_need_quotes: bool = True
    # True for vector: an element is itself a sequence of numbers, not a nesting level.
    is_sequence: bool = False


class ArrayCodec:
    """Both formats, both directions, for arrays of one element type."""

    def __init__(self, element: ElementCodec) -> None:
        self._element = element
        self._record: np.dtype[Any] | None = None
        self._element_size = 0
        if element.numpy_dtype is not None:
            # Each element: int32 length, then the value; packed, so it matches the wire.
            storage = "u1" if element.numpy_dtype == "?" else element.numpy_dtype
            self._record = np.dtype([("length", ">i4"), ("value", storage)])
            self._element_size = np.dtype(storage).itemsize

    # --- text ----------------------------------------------------------------------------------

    def decode_text(self, data: bytes) -> list[Any]:
        text = decode_utf8(data)
        dims, items = _parse_literal(text)
        decode = self._element.decode_text
        values = [None if item is None else decode(item) for item in items]
        return _nest(values, dims)

    def encode_text(self, value: Any) -> bytes:
        dims, flat = self._shape(value)
        if not dims:
            return b"{}"
        encode = self._element.encode_text
        if self._element.may_need_quotes:
            parts = [_NULL_TEXT if item is None else _quoted(encode(item)) for item in flat]
        else:
            parts = [_NULL_TEXT if item is None else encode(item) for item in flat]
        return _braced(parts, dims)

    # --- binary --------------------------------------------------------------------------------

    def decode_binary(self, data: bytes) -> list[Any]:
        if len(data) < _HEADER.size:
            raise _insufficient_data()
        ndim, flags, element_oid = _HEADER.unpack_from(data)
        if ndim < 0:
            raise InvalidBinaryRepresentation(f"invalid number of dimensions: {ndim}")
        if ndim > MAX_DIMENSIONS:
            raise _too_many_dimensions(ndim)
        if flags not in (0, 1):
            raise InvalidBinaryRepresentation("invalid array flags")
        expected_oid = self._element.oid
        if (
            element_oid != expected_oid
            and element_oid < _BUILTIN_OID_LIMIT
            and expected_oid < _BUILTIN_OID_LIMIT
        ):
            raise DatatypeMismatch(
                f"binary data has array element type {element_oid} ({_type_name(element_oid)}) "
                f"instead of expected {expected_oid} ({_type_name(expected_oid)})"
            )
        offset = _HEADER.size + ndim * _DIMENSION.size
        if len(data) < offset:
            raise _insufficient_data()
        dims = [
            _DIMENSION.unpack_from(data, _HEADER.size + i * _DIMENSION.size)[0] for i in range(ndim)
        ]
        count = _element_count(dims)
        if count == 0:
            if len(data) != offset:
                raise WrongBinaryLength
            return []
        # Every element, NULL or not, takes at least its 4-byte length.
        if count * INT32.size > len(data) - offset:
            raise _insufficient_data()
        values = self._bulk_decode(data, offset, count)
        if values is None:
            values = self._decode_elements(data, offset, count)
        return _nest(values, dims)

    def encode_binary(self, value: Any) -> bytes:
        dims, flat = self._shape(value)
        has_null = any(item is None for item in flat)
        header = _HEADER.pack(len(dims), int(has_null), self._element.oid)
        header += b"".join(_DIMENSION.pack(size, 1) for size in dims)
        if self._record is not None and not has_null:
            records = np.empty(len(flat), dtype=self._record)
            records["length"] = self._element_size
            records["value"] = flat
            return header + records.tobytes()
        encode = self._element.encode_binary
        fields = [field(None if item is None else encode(item)) for item in flat]
        return header + b"".join(fields)

    def _bulk_decode(self, data: bytes, offset: int, count: int) -> list[Any] | None:
        """All elements at once with numpy, when they are fixed-size and none is NULL."""
        if self._record is None or len(data) != offset + count * self._record.itemsize:
            return None
        records = np.frombuffer(data, dtype=self._record, count=count, offset=offset)
        if not (records["length"] == self._element_size).all():
            return None  # NULLs or odd lengths: the element-wise path reports those
        values = records["value"]
        if self._element.numpy_dtype == "?":
            values = values != 0  # boolrecv: any non-zero byte is true
        result: list[Any] = values.tolist()
        return result

    def _decode_elements(self, data: bytes, offset: int, count: int) -> list[Any]:
        decode = self._element.decode_binary
        values: list[Any] = []
        end = len(data)
        for number in range(1, count + 1):
            if offset + INT32.size > end:
                raise _insufficient_data()
            (length,) = INT32.unpack_from(data, offset)
            offset += INT32.size
            if length == -1:
                values.append(None)
                continue
            if length < -1 or length > end - offset:
                raise _insufficient_data()
            try:
                values.append(decode(data[offset : offset + length]))
            except WrongBinaryLength:
                raise InvalidBinaryRepresentation(
                    f"improper binary format in array element {number}"
                ) from None
            offset += length
        if offset != end:
            raise WrongBinaryLength
        return values

    # --- Python values -------------------------------------------------------------------------

    def _shape(self, value: Any) -> tuple[list[int], list[Any]]:
        """(dimensions, elements in row-major order) of a (nested) list; ([], []) when empty."""
        if isinstance(value, str | bytes):
            raise TypeError(f"an array value must be a list, not {type(value).__name__}")
        dims: list[int] = []
        level: list[Any] = [value]
        while True:
            size = len(level[0])
            if any(len(item) != size for item in level):
                raise _ragged()
            dims.append(size)
            if len(dims) > MAX_DIMENSIONS:
                raise _too_many_dimensions(len(dims))
            children = [child for item in level for child in item]
            if not children:
                return [], []
            first = next((child for child in children if child is not None), None)
            if first is None or not self._is_sub_array(first):
                return dims, children
            if not all(child is not None and self._is_sub_array(child) for child in children):
                raise _ragged()
            level = children

    def _is_sub_array(self, item: Any) -> bool:
        if isinstance(item, np.ndarray):
            return item.ndim > (1 if self._element.is_sequence else 0)
        if not isinstance(item, list | tuple):
            return False
        if not self._element.is_sequence:
            return True
        # A vector is a sequence of numbers; a sequence of vectors (or NULLs) is a sub-array.
        return not item or item[0] is None or isinstance(item[0], list | tuple | np.ndarray)


# --- text structure ----------------------------------------------------------------------------


def _parse_literal(text: str) -> tuple[list[int], list[str | None]]:
    """array_in's parse: (dimensions, element texts in row-major order, None for NULL)."""
    simple = _SIMPLE_LITERAL.fullmatch(text)
    if simple:
        inner = simple.group(1)
        items = [item.strip(_SPACE) for item in inner.split(",")]
        if all(items):
            return [len(items)], [None if item.upper() == "NULL" else item for item in items]
    declared, position = _dimension_decoration(text)
    return _LiteralParser(text, declared).parse(position)


def _dimension_decoration(text: str) -> tuple[list[int] | None, int]:
    """Explicit dimensions (`[1:3]={...}`), if any, and where the braces start."""
    declared: list[int] = []
    position = _skip_space(text, 0)
    while text[position : position + 1] == "[":
        if len(declared) == MAX_DIMENSIONS:
            raise _too_many_dimensions(len(declared) + 1)
        first, position = _bound(text, position + 1)
        if not first:
            raise _malformed(text, '"[" must introduce explicitly-specified array dimensions.')
        lower, upper = 1, first
        if text[position : position + 1] == ":":
            lower = _atoi(first)
            upper, position = _bound(text, position + 1)
            if not upper:
                raise _malformed(text, "Missing array dimension value.")
        if text[position : position + 1] != "]":
            raise _malformed(text, 'Missing "]" after array dimensions.')
        if _atoi(upper) < lower:
            raise _ArraySubscriptError("upper bound cannot be less than lower bound")
        declared.append(_atoi(upper) - lower + 1)
        position = _skip_space(text, position + 1)
    if not declared:
        if text[position : position + 1] != "{":
            raise _malformed(text, 'Array value must start with "{" or dimension information.')
        return None, position
    if text[position : position + 1] != "=":
        raise _malformed(text, 'Missing "=" after array dimensions.')
    position = _skip_space(text, position + 1)
    if text[position : position + 1] != "{":
        raise _malformed(text, 'Array contents must start with "{".')
    return declared, position


def _skip_space(text: str, position: int) -> int:
    while text[position : position + 1] in _SPACE_CHARACTERS:
        position += 1
    return position


def _bound(text: str, position: int) -> tuple[str, int]:
    """A run of digits and signs, as array_in scans a bound before atoi() reads it."""
    match = _BOUND.match(text, position)
    assert match is not None  # the pattern matches the empty string too
    return match.group(), match.end()


def _atoi(text: str) -> int:
    match = _LEADING_INTEGER.match(text)
    return int(match.group()) if match else 0


class _LiteralParser:
    """array_in's brace structure, with its checks and its DETAIL messages."""

    def __init__(self, text: str, declared: list[int] | None) -> None:
        self._text = text
        self._declared = declared
        self._items: list[str | None] = []
        self._open_counts: list[int] = []  # items so far in each open level
        self._sizes: dict[int, int] = {}  # dimension index -> length, once a level closed
        self._leaf_depth = 0  # the nesting depth elements sit at, once one was seen

    def parse(self, position: int) -> tuple[list[int], list[str | None]]:
        text = self._text
        state = "start"
        while position < len(text):
            match = _TOKEN.match(text, position)
            assert match is not None  # the alternatives cover every character
            position = match.end()
            kind = match.lastgroup
            if kind == "space":
                continue
            if state == "finished":
                raise self._malformed("Junk after closing right brace.")
            if kind == "open":
                state = self._open(state)
            elif kind == "close":
                state = self._close(state)
            elif kind == "delimiter":
                if state not in ("element", "level"):
                    raise self._malformed('Unexpected "," character.')
                state = "element_delimited" if state == "element" else "level_delimited"
            elif kind in ("quoted", "plain"):
                state = self._element(state, match.group(kind), quoted=kind == "quoted")
            elif state in ("started", "element_delimited"):  # unterminated quote, lone "\"
                raise self._malformed("Unexpected end of input.")
            elif kind == "backslash":
                raise self._malformed('Unexpected "\\" character.')
            else:
                raise self._malformed("Unexpected array element.")
        if state != "finished":
            raise self._malformed("Unexpected end of input.")
        dims = [self._sizes[i] for i in range(self._leaf_depth)] if self._items else []
        if self._declared is not None and self._declared != dims:
            raise self._malformed("Specified array dimensions do not match array contents.")
        return dims, self._items

    def _open(self, state: str) -> str:
        if state not in ("start", "started", "level_delimited"):
            raise self._malformed('Unexpected "{" character.')
        depth = len(self._open_counts)
        if depth == MAX_DIMENSIONS:
            raise _too_many_dimensions(depth + 1)
        if self._leaf_depth and depth >= self._leaf_depth:
            raise self._mismatched()
        if self._open_counts:
            self._open_counts[-1] += 1
        self._open_counts.append(0)
        return "started"

    def _close(self, state: str) -> str:
        empty_outermost = state == "started" and len(self._open_counts) == 1
        if state not in ("element", "level") and not empty_outermost:
            raise self._malformed('Unexpected "}" character.')
        count = self._open_counts.pop()
        dimension = len(self._open_counts)
        if self._sizes.setdefault(dimension, count) != count:
            raise self._mismatched()
        return "level" if self._open_counts else "finished"

    def _element(self, state: str, token: str, quoted: bool) -> str:
        if state not in ("started", "element_delimited"):
            if not quoted and token.startswith("\\"):
                raise self._malformed('Unexpected "\\" character.')
            raise self._malformed("Unexpected array element.")
        depth = len(self._open_counts)
        if self._leaf_depth and depth != self._leaf_depth:
            raise self._mismatched()
        self._leaf_depth = depth
        self._open_counts[-1] += 1
        if not quoted and "\\" not in token and token.upper() == "NULL":
            self._items.append(None)
        else:
            self._items.append(_ESCAPE.sub(r"\1", token))
        return "element"

    def _malformed(self, detail: str) -> InvalidTextRepresentation:
        return _malformed(self._text, detail)

    def _mismatched(self) -> InvalidTextRepresentation:
        return self._malformed(
            "Multidimensional arrays must have sub-arrays with matching dimensions."
        )


def _quoted(text: bytes) -> bytes:
    """array_out's quoting: empty, NULL-like, or holding braces, quotes, commas or spaces."""
    if text and not _NEEDS_QUOTES.search(text) and text.upper() != _NULL_TEXT:
        return text
    return b'"' + _ESCAPED.sub(rb"\\\1", text) + b'"'


def _braced(parts: list[bytes], dims: Sequence[int]) -> bytes:
    """Row-major element texts in nested braces: `{{1,2},{3,4}}` for dims [2, 2]."""
    for size in reversed(dims[1:]):
        parts = [b"{" + b",".join(parts[i : i + size]) + b"}" for i in range(0, len(parts), size)]
    return b"{" + b",".join(parts) + b"}"


# --- shared ------------------------------------------------------------------------------------


def _nest(values: list[Any], dims: Sequence[int]) -> list[Any]:
    """Row-major values as nested lists, one level per dimension."""
    for size in reversed(dims[1:]):
        values = [values[i : i + size] for i in range(0, len(values), size)]
    return values


def _element_count(dims: Sequence[int]) -> int:
    """ArrayGetNItems: the product of the dimensions, refusing negative or huge ones."""
    count = 1
    for size in dims:
        if size < 0:
            raise _too_large()
        count *= size
        if count > MAX_ARRAY_SIZE:
            raise _too_large()
    return count if dims else 0


def _type_name(oid: int) -> str:
    return _TYPE_NAMES.get(oid, "???")


def _malformed(text: str, detail: str) -> InvalidTextRepresentation:
    return InvalidTextRepresentation(f'malformed array literal: "{text}"', detail=detail)


def _insufficient_data() -> InvalidBinaryRepresentation:
    return InvalidBinaryRepresentation("insufficient data left in message")


def _too_many_dimensions(ndim: int) -> ProgramLimitExceeded:
    return ProgramLimitExceeded(
        f"number of array dimensions ({ndim}) exceeds the maximum allowed ({MAX_DIMENSIONS})"
    )


def _too_large() -> ProgramLimitExceeded:
    return ProgramLimitExceeded(f"array size exceeds the maximum allowed ({MAX_ARRAY_SIZE})")


def _ragged() -> DataException:
    return DataException(
        "multidimensional arrays must have array expressions with matching dimensions"
    )
