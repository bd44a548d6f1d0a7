"""Values <-> wire bytes, in text (format 0) and binary (format 1), chosen by type OID.

Text forms and error messages follow PostgreSQL's input/output functions (pgvector's for
`vector`). Arrays of those types go through `arrays`, each element through its type's codec.
OIDs without a codec of their own are handled as text, as PostgreSQL does for types it receives
as `unknown`.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sqlvec import bits, sparse
from sqlvec.errors import (
    DataException,
    InvalidBinaryRepresentation,
    InvalidTextRepresentation,
    NumericValueOutOfRange,
)
from sqlvec.floats import float4_text, float8_text
from sqlvec.types import (
    ARRAY_TYPES,
    BIT,
    BOOL,
    CHAR,
    FLOAT4,
    FLOAT8,
    HALFVEC_OID,
    INT2,
    INT4,
    INT8,
    NAME,
    OID,
    SPARSEVEC_OID,
    TEXT,
    UNKNOWN,
    VARBIT,
    VARCHAR,
    VECTOR_OID,
    PgType,
)
from sqlvec.vectors import (
    checked_halfvec,
    checked_vector,
    format_vector,
    parse_plain_vector,
    parse_vector,
)
from sqlvec.wire.arrays import ArrayCodec, ElementCodec, WrongBinaryLength
from sqlvec.wire.buffer import decode_utf8, field
from sqlvec.wire.handler import ColumnDesc

TEXT_FORMAT = 0
BINARY_FORMAT = 1

ValueEncoder = Callable[[Any], bytes]
ValueDecoder = Callable[[bytes], Any]

_TEXT_TYPE_OIDS = (TEXT.oid, VARCHAR.oid, NAME.oid, UNKNOWN.oid)
_BIT_OIDS = (BIT.oid, VARBIT.oid)
_VECTOR_HEADER = struct.Struct("!hh")  # dim, unused: int16 in pgvector's vector_recv
_FLOAT4 = struct.Struct("f")


def decode_parameter(data: bytes | None, pgtype: PgType, format_code: int, position: int) -> Any:
    """Decode one Bind parameter (`position` is 1-based, for the error message)."""
    if data is None:
        return None
    decoders = _BINARY_DECODERS if format_code == BINARY_FORMAT else _TEXT_DECODERS
    decode = decoders.get(pgtype.oid, decoders[TEXT.oid])
    try:
        return decode(data)
    except WrongBinaryLength:
        raise InvalidBinaryRepresentation(
            f"incorrect binary data format in bind parameter {position}"
        ) from None


_FIELD_COUNT = struct.Struct("!h")


def encoded_row(row: Sequence[Any], encoders: Sequence[ValueEncoder]) -> bytes:
    """A row as Postgres' tuple: int16 field count, then per field an int32 length (-1 for
    NULL) and its bytes. The body of a DataRow, and one tuple of a binary COPY."""
    fields = [_FIELD_COUNT.pack(len(encoders))]
    for value, encode in zip(row, encoders, strict=True):
        fields.append(field(None if value is None else encode(value)))
    return b"".join(fields)


def result_encoders(columns: Sequence[ColumnDesc], formats: Sequence[int]) -> list[ValueEncoder]:
    """One encoder per result column, chosen once per result rather than once per value."""
    return [
        _encoder(column.type.oid, format_code)
        for column, format_code in zip(columns, formats, strict=True)
    ]


def _encoder(oid: int, format_code: int) -> ValueEncoder:
    encoders = _BINARY_ENCODERS if format_code == BINARY_FORMAT else _TEXT_ENCODERS
    return encoders.get(oid, encoders[TEXT.oid])


# --- text output -----------------------------------------------------------------------------


def _text_value(value: Any) -> bytes:
    return (value if isinstance(value, str) else str(value)).encode()


def int_text(value: Any) -> bytes:
    return b"%d" % value


def float8_text_bytes(value: Any) -> bytes:
    return float8_text(value).encode()


_TEXT_ENCODERS: dict[int, ValueEncoder] = {
    BOOL.oid: lambda value: b"t" if value else b"f",
    **dict.fromkeys((INT2.oid, INT4.oid, INT8.oid, OID.oid), int_text),
    FLOAT4.oid: lambda value: float4_text(value).encode(),
    FLOAT8.oid: float8_text_bytes,
    VECTOR_OID: lambda value: format_vector(value).encode(),
    HALFVEC_OID: lambda value: format_vector(value).encode(),
    SPARSEVEC_OID: lambda value: sparse.format_sparsevec(value).encode(),
    **dict.fromkeys(_BIT_OIDS, _text_value),
    **dict.fromkeys(_TEXT_TYPE_OIDS, _text_value),
}


# --- binary output ---------------------------------------------------------------------------


def _vector_binary(value: Any) -> bytes:
    array = np.asarray(value, dtype=">f4")
    return _VECTOR_HEADER.pack(len(array), 0) + array.tobytes()


def _halfvec_binary(value: Any) -> bytes:
    """pgvector's halfvec_send: int16 dim, int16 unused (0), dim big-endian float16s."""
    array = np.asarray(value, dtype=">f2")
    return _VECTOR_HEADER.pack(len(array), 0) + array.tobytes()


_BINARY_ENCODERS: dict[int, ValueEncoder] = {
    BOOL.oid: lambda value: b"\x01" if value else b"\x00",
    INT2.oid: struct.Struct("!h").pack,
    INT4.oid: struct.Struct("!i").pack,
    INT8.oid: struct.Struct("!q").pack,
    OID.oid: struct.Struct("!I").pack,
    FLOAT4.oid: struct.Struct("!f").pack,
    FLOAT8.oid: struct.Struct("!d").pack,
    VECTOR_OID: _vector_binary,
    HALFVEC_OID: _halfvec_binary,
    SPARSEVEC_OID: sparse.encode_binary,
    **dict.fromkeys(_BIT_OIDS, bits.encode_binary),
    # char_send: always one byte, a zero byte for '' (asyncpg, and SQLAlchemy over it, read that)
    CHAR.oid: lambda value: _text_value(value)[:1] or b"\x00",
    **dict.fromkeys(_TEXT_TYPE_OIDS, _text_value),
}


# --- text input ------------------------------------------------------------------------------

_SPACE = "[ \t\n\r\f\v]*"  # C's isspace(), which PostgreSQL's input functions skip
_INTEGER_SYNTAX = re.compile(rf"{_SPACE}[+-]?[0-9]+{_SPACE}")
_FLOAT_SYNTAX = re.compile(
    rf"{_SPACE}(?:[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?|inf(?:inity)?)|nan){_SPACE}",
    re.IGNORECASE,
)
_NONZERO_DIGIT = re.compile(r"[1-9]")


def _integer_decoder(type_name: str, low: int, high: int) -> ValueDecoder:
    def decode(data: bytes) -> int:
        text = decode_utf8(data)
        if not _INTEGER_SYNTAX.fullmatch(text):
            raise InvalidTextRepresentation(f'invalid input syntax for type {type_name}: "{text}"')
        value = int(text)
        if not low <= value <= high:
            raise NumericValueOutOfRange(f'value "{text}" is out of range for type {type_name}')
        return value

    return decode


# oidin accepts negative numbers down to INT32_MIN and wraps them, as C's strtoul does.
_oid_in_range = _integer_decoder("oid", -(2**31), 2**32 - 1)


def _decode_oid_text(data: bytes) -> int:
    value: int = _oid_in_range(data)
    return value % 2**32


def _float_decoder(type_name: str, to_precision: Callable[[float], float]) -> ValueDecoder:
    def decode(data: bytes) -> float:
        text = decode_utf8(data)
        if not _FLOAT_SYNTAX.fullmatch(text):
            raise InvalidTextRepresentation(f'invalid input syntax for type {type_name}: "{text}"')
        literal = float(text)
        try:
            value = to_precision(literal)
        except OverflowError:
            value = float("inf")
        if _overflowed(text, value) or _underflowed(text, value):
            raise NumericValueOutOfRange(f'"{text}" is out of range for type {type_name}')
        return value

    return decode


def _overflowed(text: str, value: float) -> bool:
    return math.isinf(value) and "inf" not in text.lower()


def _underflowed(text: str, value: float) -> bool:
    mantissa = text.lower().partition("e")[0]
    return value == 0.0 and _NONZERO_DIGIT.search(mantissa) is not None


def _round_to_float4(value: float) -> float:
    """The float4 nearest to a double; OverflowError where C's cast would give infinity."""
    rounded: float = _FLOAT4.unpack(_FLOAT4.pack(value))[0]
    return rounded


def _decode_bool_text(data: bytes) -> bool:
    # boolin: any prefix of true/false/yes/no, on/off (at least "of"), 1/0, any case.
    text = decode_utf8(data)
    word = text.strip(" \t\n\r\f\v").lower()
    if word and ("true".startswith(word) or "yes".startswith(word) or word in ("on", "1")):
        return True
    if word and ("false".startswith(word) or "no".startswith(word) or word in ("of", "off", "0")):
        return False
    raise InvalidTextRepresentation(f'invalid input syntax for type boolean: "{text}"')


def _decode_vector_text(data: bytes) -> np.ndarray:
    """A query vector, read in one pass when plainly written (most are: drivers print JSON
    numbers); `parse_vector` reads every other spelling and words the errors."""
    vector = parse_plain_vector(data)
    return vector if vector is not None else parse_vector(decode_utf8(data))


_TEXT_DECODERS: dict[int, ValueDecoder] = {
    BOOL.oid: _decode_bool_text,
    INT2.oid: _integer_decoder("smallint", -(2**15), 2**15 - 1),
    INT4.oid: _integer_decoder("integer", -(2**31), 2**31 - 1),
    INT8.oid: _integer_decoder("bigint", -(2**63), 2**63 - 1),
    OID.oid: _decode_oid_text,
    FLOAT4.oid: _float_decoder("real", _round_to_float4),
    FLOAT8.oid: _float_decoder("double precision", float),
    VECTOR_OID: _decode_vector_text,
    HALFVEC_OID: lambda data: parse_vector(decode_utf8(data), type_name="halfvec"),
    SPARSEVEC_OID: lambda data: sparse.parse_sparsevec(decode_utf8(data)),
    **dict.fromkeys(_BIT_OIDS, lambda data: bits.parse_bits(decode_utf8(data))),
    **dict.fromkeys(_TEXT_TYPE_OIDS, decode_utf8),
}


# --- binary input ----------------------------------------------------------------------------


def _fixed_size_decoder(layout: struct.Struct) -> ValueDecoder:
    def decode(data: bytes) -> Any:
        if len(data) != layout.size:
            raise WrongBinaryLength
        return layout.unpack(data)[0]

    return decode


def _decode_vector_binary(data: bytes) -> np.ndarray:
    """pgvector's binary form: int16 dim, int16 unused (0), dim big-endian float32s."""
    values = _vector_components(data, ">f4")
    return checked_vector(values.astype(np.float32))


def _decode_halfvec_binary(data: bytes) -> np.ndarray:
    """pgvector's halfvec binary form: as vector's, with float16 components."""
    return checked_halfvec(_vector_components(data, ">f2").astype(np.float32))


def _vector_components(data: bytes, dtype: str) -> np.ndarray:
    if len(data) < _VECTOR_HEADER.size:
        raise WrongBinaryLength
    dim, unused = _VECTOR_HEADER.unpack_from(data)
    if unused != 0:
        raise DataException(f"expected unused to be 0, not {unused}")
    width = np.dtype(dtype).itemsize
    if dim < 0 or len(data) != _VECTOR_HEADER.size + width * dim:
        raise WrongBinaryLength
    return np.frombuffer(data, dtype=dtype, count=dim, offset=_VECTOR_HEADER.size)


_BINARY_DECODERS: dict[int, ValueDecoder] = {
    BOOL.oid: _fixed_size_decoder(struct.Struct("!?")),
    INT2.oid: _fixed_size_decoder(struct.Struct("!h")),
    INT4.oid: _fixed_size_decoder(struct.Struct("!i")),
    INT8.oid: _fixed_size_decoder(struct.Struct("!q")),
    OID.oid: _fixed_size_decoder(struct.Struct("!I")),
    FLOAT4.oid: _fixed_size_decoder(struct.Struct("!f")),
    FLOAT8.oid: _fixed_size_decoder(struct.Struct("!d")),
    VECTOR_OID: _decode_vector_binary,
    HALFVEC_OID: _decode_halfvec_binary,
    SPARSEVEC_OID: sparse.decode_binary,
    **dict.fromkeys(_BIT_OIDS, bits.decode_binary),
    **dict.fromkeys(_TEXT_TYPE_OIDS, decode_utf8),
}


# --- arrays ----------------------------------------------------------------------------------

# Fixed-size elements whose arrays decode and encode in bulk (see ArrayCodec).
_NUMPY_DTYPES = {
    BOOL.oid: "?",
    INT2.oid: ">i2",
    INT4.oid: ">i4",
    INT8.oid: ">i8",
    FLOAT4.oid: ">f4",
    FLOAT8.oid: ">f8",
}


# Vector text forms hold commas (and sparsevec's braces): quoted inside an array literal.
_VECTOR_TEXT_OIDS = (VECTOR_OID, HALFVEC_OID, SPARSEVEC_OID)


def _element_codec(oid: int) -> ElementCodec:
    decode = _TEXT_DECODERS[oid]
    return ElementCodec(
        oid,
        # The array literal is already checked UTF-8; text elements need no second pass.
        decode_text=str if oid in _TEXT_TYPE_OIDS else lambda text: decode(text.encode()),
        encode_text=_TEXT_ENCODERS[oid],
        decode_binary=_BINARY_DECODERS[oid],
        encode_binary=_BINARY_ENCODERS[oid],
        numpy_dtype=_NUMPY_DTYPES.get(oid),
        may_need_quotes=oid in _TEXT_TYPE_OIDS or oid in _VECTOR_TEXT_OIDS,
        is_sequence=oid in (VECTOR_OID, HALFVEC_OID),
    )


def _register_arrays() -> None:
    for array_type in ARRAY_TYPES:
        codec = ArrayCodec(_element_codec(array_type.element_oid))
        _TEXT_DECODERS[array_type.oid] = codec.decode_text
        _TEXT_ENCODERS[array_type.oid] = codec.encode_text
        _BINARY_DECODERS[array_type.oid] = codec.decode_binary
        _BINARY_ENCODERS[array_type.oid] = codec.encode_binary


_register_arrays()
