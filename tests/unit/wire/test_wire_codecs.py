"""Codecs: both formats for every type, PostgreSQL's text spellings and error messages.

Expected texts and messages were checked against PostgreSQL 15 (and pgvector's source).
"""

from __future__ import annotations

import math
import struct
from typing import Any

import numpy as np
import pytest

from sqlvec.errors import SqlvecError
from sqlvec.types import (
    BOOL,
    FLOAT4,
    FLOAT8,
    INT2,
    INT4,
    INT8,
    NAME,
    OID,
    TEXT,
    UNKNOWN,
    VARCHAR,
    VECTOR,
    PgType,
)
from sqlvec.wire.codecs import (
    BINARY_FORMAT,
    TEXT_FORMAT,
    decode_parameter,
    float4_text,
    float8_text,
    result_encoders,
)
from sqlvec.wire.handler import ColumnDesc

UNREGISTERED_TYPE = PgType(3802, "jsonb", -1)


def encode(value: Any, pgtype: PgType, format_code: int) -> bytes:
    (encoder,) = result_encoders([ColumnDesc("c", pgtype)], [format_code])
    return encoder(value)


def decode(data: bytes, pgtype: PgType, format_code: int, position: int = 1) -> Any:
    return decode_parameter(data, pgtype, format_code, position)


def decode_error(data: bytes, pgtype: PgType, format_code: int = TEXT_FORMAT) -> SqlvecError:
    with pytest.raises(SqlvecError) as caught:
        decode(data, pgtype, format_code, position=2)
    return caught.value


ROUND_TRIPS = [
    (BOOL, True),
    (BOOL, False),
    (INT2, -32768),
    (INT2, 32767),
    (INT4, -(2**31)),
    (INT4, 2**31 - 1),
    (INT8, -(2**63)),
    (INT8, 2**63 - 1),
    (OID, 4294967295),
    (FLOAT4, 0.5),
    (FLOAT4, -123.25),
    (FLOAT8, 0.1 + 0.2),
    (FLOAT8, -1.5e300),
    (FLOAT8, 5e-324),
    (TEXT, "héllo, wörld ✓"),
    (VARCHAR, ""),
    (NAME, "pg_class"),
    (UNKNOWN, "1"),
    (UNREGISTERED_TYPE, '{"a": 1}'),
]


@pytest.mark.parametrize("format_code", [TEXT_FORMAT, BINARY_FORMAT])
@pytest.mark.parametrize(("pgtype", "value"), ROUND_TRIPS)
def test_scalar_values_survive_a_round_trip(pgtype: PgType, value: Any, format_code: int) -> None:
    decoded = decode(encode(value, pgtype, format_code), pgtype, format_code)
    assert decoded == value
    assert type(decoded) is type(value)


@pytest.mark.parametrize("format_code", [TEXT_FORMAT, BINARY_FORMAT])
def test_vectors_survive_a_round_trip(format_code: int) -> None:
    vector = np.array([1.0, -2.5, 3e-7, 1e6, float(np.float32(0.1))], dtype=np.float32)
    decoded = decode(encode(vector, VECTOR, format_code), VECTOR, format_code)
    assert decoded.dtype == np.float32
    np.testing.assert_array_equal(decoded, vector)


@pytest.mark.parametrize("format_code", [TEXT_FORMAT, BINARY_FORMAT])
def test_float_specials_survive_a_round_trip(format_code: int) -> None:
    for pgtype in (FLOAT4, FLOAT8):
        for value in (math.inf, -math.inf):
            assert decode(encode(value, pgtype, format_code), pgtype, format_code) == value
        assert math.isnan(decode(encode(math.nan, pgtype, format_code), pgtype, format_code))


TEXT_OUTPUT = [
    (BOOL, True, b"t"),
    (BOOL, np.bool_(False), b"f"),
    (INT8, np.int64(-42), b"-42"),
    (INT4, np.int32(7), b"7"),
    (INT2, 3, b"3"),
    (TEXT, 12, b"12"),  # not a str: str()-ed
    (UNKNOWN, np.float64(0.5), b"0.5"),
    (VECTOR, np.array([1, 2.5, -3], dtype=np.float32), b"[1,2.5,-3]"),
    (VECTOR, [0.1, 2], b"[0.1,2]"),
]


@pytest.mark.parametrize(("pgtype", "value", "expected"), TEXT_OUTPUT)
def test_text_output_follows_postgres(pgtype: PgType, value: Any, expected: bytes) -> None:
    assert encode(value, pgtype, TEXT_FORMAT) == expected


FLOAT8_TEXT = [
    (1.0, "1"),
    (0.5, "0.5"),
    (-0.0, "-0"),
    (0.0, "0"),
    (0.1 + 0.2, "0.30000000000000004"),
    (1e14, "100000000000000"),
    (1e15, "1e+15"),  # Python's repr says 1000000000000000.0
    (1e16, "1e+16"),
    (1e20, "1e+20"),
    (1.5e300, "1.5e+300"),
    (0.0001, "0.0001"),
    (1e-5, "1e-05"),
    (5e-324, "5e-324"),
    # Python's shortest digits lie exactly halfway to the next double; PostgreSQL's do not.
    (-2.7246199793661072e16, "-2.7246199793661072e+16"),
    (math.inf, "Infinity"),
    (-math.inf, "-Infinity"),
    (math.nan, "NaN"),
    (np.float32(0.1), "0.10000000149011612"),
]


@pytest.mark.parametrize(("value", "expected"), FLOAT8_TEXT)
def test_float8_text_matches_postgres(value: Any, expected: str) -> None:
    assert float8_text(value) == expected
    assert encode(value, FLOAT8, TEXT_FORMAT) == expected.encode()


FLOAT4_TEXT = [
    (1.0, "1"),
    (0.1, "0.1"),
    (-123.25, "-123.25"),
    (100000.0, "100000"),
    (123456.7, "123456.7"),
    (1e6, "1e+06"),  # numpy's str says 1000000.0
    (93156864.0, "9.3156864e+07"),  # numpy's shortest digits are a halfway case
    (3.4028234663852886e38, "3.4028235e+38"),
    (1.401298464324817e-45, "1e-45"),
    (9.999999747378752e-05, "0.0001"),
    (1e-7, "1e-07"),
    (np.float32(-0.0), "-0"),
    (math.inf, "Infinity"),
    (math.nan, "NaN"),
]


@pytest.mark.parametrize(("value", "expected"), FLOAT4_TEXT)
def test_float4_text_matches_postgres(value: Any, expected: str) -> None:
    assert float4_text(value) == expected
    assert encode(value, FLOAT4, TEXT_FORMAT) == expected.encode()


BINARY_OUTPUT = [
    (BOOL, np.bool_(True), b"\x01"),
    (INT2, -2, b"\xff\xfe"),
    (INT4, np.int32(1), b"\x00\x00\x00\x01"),
    (INT8, np.int64(5), b"\x00" * 7 + b"\x05"),
    (OID, 4294967295, b"\xff\xff\xff\xff"),
    (FLOAT4, np.float32(1.5), struct.pack("!f", 1.5)),
    (FLOAT8, 0.25, struct.pack("!d", 0.25)),
    (VARCHAR, "é", "é".encode()),
    (
        VECTOR,
        np.array([1.0, -2.0], dtype=np.float32),
        b"\x00\x02\x00\x00" + struct.pack("!ff", 1.0, -2.0),
    ),
]


@pytest.mark.parametrize(("pgtype", "value", "expected"), BINARY_OUTPUT)
def test_binary_output_is_postgres_send_format(pgtype: PgType, value: Any, expected: bytes) -> None:
    assert encode(value, pgtype, BINARY_FORMAT) == expected


TEXT_INPUT = [
    (BOOL, b" tRuE ", True),
    (BOOL, b"YE", True),
    (BOOL, b"of", False),
    (BOOL, b"0", False),
    (INT2, b" -0012 ", -12),
    (INT8, b"+5", 5),
    (OID, b"-1", 4294967295),  # oidin wraps negatives, as strtoul does
    (FLOAT8, b".5", 0.5),
    (FLOAT8, b" -Infinity ", -math.inf),
    (FLOAT4, b"0.1", float(np.float32(0.1))),  # rounded to float4
    (FLOAT4, b"-.5e-3", float(np.float32(-0.0005))),
]


@pytest.mark.parametrize(("pgtype", "data", "expected"), TEXT_INPUT)
def test_text_input_accepts_what_postgres_accepts(
    pgtype: PgType, data: bytes, expected: Any
) -> None:
    assert decode(data, pgtype, TEXT_FORMAT) == expected


TEXT_INPUT_ERRORS = [
    (INT4, b"abc", "22P02", 'invalid input syntax for type integer: "abc"'),
    (INT2, b"1.5", "22P02", 'invalid input syntax for type smallint: "1.5"'),
    (INT8, b"", "22P02", 'invalid input syntax for type bigint: ""'),
    (INT4, b"1_000", "22P02", 'invalid input syntax for type integer: "1_000"'),
    (INT4, b"2147483648", "22003", 'value "2147483648" is out of range for type integer'),
    (INT2, b"32768", "22003", 'value "32768" is out of range for type smallint'),
    (OID, b"x", "22P02", 'invalid input syntax for type oid: "x"'),
    (BOOL, b"o", "22P02", 'invalid input syntax for type boolean: "o"'),
    (FLOAT4, b"abc", "22P02", 'invalid input syntax for type real: "abc"'),
    (FLOAT8, b"1e", "22P02", 'invalid input syntax for type double precision: "1e"'),
    (FLOAT8, b"1e400", "22003", '"1e400" is out of range for type double precision'),
    (FLOAT8, b"1e-400", "22003", '"1e-400" is out of range for type double precision'),
    (FLOAT4, b"1e39", "22003", '"1e39" is out of range for type real'),
    (FLOAT4, b"1e-50", "22003", '"1e-50" is out of range for type real'),
    (VECTOR, b"1,2", "22P02", 'invalid input syntax for type vector: "1,2"'),
    (VECTOR, b"[1,x]", "22P02", 'invalid input syntax for type vector: "[1,x]"'),
    (VECTOR, b"[]", "22000", "vector must have at least 1 dimension"),
    (VECTOR, b"[1,NaN]", "22000", "NaN not allowed in vector"),
    (VECTOR, b"[1e39]", "22003", '"[1e39]" is out of range for type vector'),
    (TEXT, b"\xff", "22021", 'invalid byte sequence for encoding "UTF8": 0xff'),
    (TEXT, b"a\0b", "22021", 'invalid byte sequence for encoding "UTF8": 0x00'),
]


@pytest.mark.parametrize(("pgtype", "data", "sqlstate", "message"), TEXT_INPUT_ERRORS)
def test_bad_text_input_raises_postgres_error(
    pgtype: PgType, data: bytes, sqlstate: str, message: str
) -> None:
    error = decode_error(data, pgtype)
    assert (error.sqlstate, error.message) == (sqlstate, message)


def test_vector_text_error_keeps_pgvector_detail() -> None:
    error = decode_error(b"1,2", VECTOR)
    assert error.detail == 'Vector contents must start with "[".'


BINARY_INPUT = [
    (BOOL, b"\x02", True),  # boolrecv: any non-zero byte
    (INT2, b"\x80\x00", -32768),
    (INT4, b"\xff\xff\xff\xfe", -2),
    (INT8, b"\x00" * 7 + b"\x09", 9),
    (OID, b"\x80\x00\x00\x00", 2**31),
    (FLOAT4, struct.pack("!f", -0.75), -0.75),
    (FLOAT8, struct.pack("!d", 1e100), 1e100),
    (TEXT, "ü".encode(), "ü"),
    (UNREGISTERED_TYPE, b"[1]", "[1]"),
]


@pytest.mark.parametrize(("pgtype", "data", "expected"), BINARY_INPUT)
def test_binary_input_is_postgres_recv_format(pgtype: PgType, data: bytes, expected: Any) -> None:
    assert decode(data, pgtype, BINARY_FORMAT) == expected


def test_binary_vector_input_is_pgvector_format() -> None:
    data = struct.pack("!hh3f", 3, 0, 1.0, 0.5, -8.0)
    np.testing.assert_array_equal(decode(data, VECTOR, BINARY_FORMAT), [1.0, 0.5, -8.0])


def vector_binary(dim: int, *values: float, unused: int = 0) -> bytes:
    return struct.pack(f"!hh{len(values)}f", dim, unused, *values)


BINARY_INPUT_ERRORS = [
    (INT4, b"\x00\x01\x02", "22P03", "incorrect binary data format in bind parameter 2"),
    (INT8, b"\x00" * 4, "22P03", "incorrect binary data format in bind parameter 2"),
    (BOOL, b"", "22P03", "incorrect binary data format in bind parameter 2"),
    (VECTOR, b"\x00", "22P03", "incorrect binary data format in bind parameter 2"),
    (
        VECTOR,
        vector_binary(3, 1.0, 2.0),
        "22P03",
        "incorrect binary data format in bind parameter 2",
    ),
    (
        VECTOR,
        vector_binary(1, 1.0, 2.0),
        "22P03",
        "incorrect binary data format in bind parameter 2",
    ),
    (VECTOR, vector_binary(1, 1.0, unused=7), "22000", "expected unused to be 0, not 7"),
    (VECTOR, vector_binary(0), "22000", "vector must have at least 1 dimension"),
    (VECTOR, vector_binary(2, 1.0, math.nan), "22000", "NaN not allowed in vector"),
    (VECTOR, vector_binary(1, math.inf), "22000", "infinite value not allowed in vector"),
    (TEXT, b"\xc3\x28", "22021", 'invalid byte sequence for encoding "UTF8": 0xc3'),
]


@pytest.mark.parametrize(("pgtype", "data", "sqlstate", "message"), BINARY_INPUT_ERRORS)
def test_bad_binary_input_raises_postgres_error(
    pgtype: PgType, data: bytes, sqlstate: str, message: str
) -> None:
    error = decode_error(data, pgtype, BINARY_FORMAT)
    assert (error.sqlstate, error.message) == (sqlstate, message)


def test_null_parameters_decode_to_none_in_either_format() -> None:
    assert decode_parameter(None, INT4, TEXT_FORMAT, 1) is None
    assert decode_parameter(None, VECTOR, BINARY_FORMAT, 1) is None


def test_result_encoders_pick_one_encoder_per_column_and_format() -> None:
    columns = [ColumnDesc("id", INT8), ColumnDesc("v", VECTOR)]
    text_id, binary_vector = result_encoders(columns, [TEXT_FORMAT, BINARY_FORMAT])
    assert text_id(np.int64(10)) == b"10"
    assert binary_vector(np.array([2.0], dtype=np.float32)) == b"\x00\x01\x00\x00@\x00\x00\x00"
    with pytest.raises(ValueError):
        result_encoders(columns, [TEXT_FORMAT])
