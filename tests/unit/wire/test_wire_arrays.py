"""Array codecs: array_in/array_out text and array_recv/array_send binary for every array type.

Expected texts, bytes and messages were checked against PostgreSQL 15.18 (which has the
element-type message of current releases); the two PostgreSQL 15 quirks sqlvec does not copy are
noted where they are tested.
"""

from __future__ import annotations

import math
import struct
from typing import Any

import numpy as np
import pytest

from sqlvec.errors import SqlvecError
from sqlvec.types import (
    ARRAY_TYPES,
    BOOL_ARRAY,
    BY_OID,
    FLOAT4_ARRAY,
    FLOAT8_ARRAY,
    INT2_ARRAY,
    INT4_ARRAY,
    INT8,
    INT8_ARRAY,
    SPARSEVEC_DUCKDB,
    TEXT_ARRAY,
    VARCHAR_ARRAY,
    VECTOR_ARRAY,
    VECTOR_ARRAY_OID,
    VECTOR_OID,
    PgType,
    type_by_oid,
)
from sqlvec.wire.codecs import BINARY_FORMAT, TEXT_FORMAT, decode_parameter, result_encoders
from sqlvec.wire.handler import ColumnDesc

FORMATS = [TEXT_FORMAT, BINARY_FORMAT]


def encode(value: Any, pgtype: PgType, format_code: int) -> bytes:
    (encoder,) = result_encoders([ColumnDesc("c", pgtype)], [format_code])
    return encoder(value)


def decode(data: bytes, pgtype: PgType, format_code: int) -> Any:
    return decode_parameter(data, pgtype, format_code, 2)


def decode_error(data: bytes, pgtype: PgType, format_code: int) -> SqlvecError:
    with pytest.raises(SqlvecError) as caught:
        decode(data, pgtype, format_code)
    return caught.value


def binary_array(
    element_oid: int,
    dims: list[int],
    elements: list[bytes | None],
    *,
    ndim: int | None = None,
    flags: int = 0,
    lower_bound: int = 1,
) -> bytes:
    """array_send's layout, built independently of the code under test."""
    parts = [struct.pack("!iiI", len(dims) if ndim is None else ndim, flags, element_oid)]
    parts += [struct.pack("!ii", size, lower_bound) for size in dims]
    for element in elements:
        parts.append(struct.pack("!i", -1 if element is None else len(element)))
        parts.append(element or b"")
    return b"".join(parts)


def int8(value: int) -> bytes:
    return struct.pack("!q", value)


def pgvector(*values: float) -> bytes:
    return struct.pack(f"!hh{len(values)}f", len(values), 0, *values)


def same_shape(value: Any, expected: Any) -> bool:
    """Equal, element types included (an int stays an int, a float a float)."""
    if isinstance(expected, list):
        return (
            isinstance(value, list)
            and len(value) == len(expected)
            and all(same_shape(v, e) for v, e in zip(value, expected, strict=True))
        )
    return type(value) is type(expected) and value == expected


# --- types -------------------------------------------------------------------------------------


def test_array_types_are_known_by_oid_with_their_element_and_duckdb_type() -> None:
    expected = {
        1000: ("_bool", 16, "BOOLEAN[]"),
        1005: ("_int2", 21, "SMALLINT[]"),
        1007: ("_int4", 23, "INTEGER[]"),
        1016: ("_int8", 20, "BIGINT[]"),
        1021: ("_float4", 700, "FLOAT[]"),
        1022: ("_float8", 701, "DOUBLE[]"),
        1009: ("_text", 25, "VARCHAR[]"),
        1015: ("_varchar", 1043, "VARCHAR[]"),
        1028: ("_oid", 26, "UINTEGER[]"),  # asyncpg's $1::oid[] in its type introspection
        VECTOR_ARRAY_OID: ("_vector", VECTOR_OID, "FLOAT[][]"),
        16388: ("_halfvec", 16387, "DOUBLE[][]"),
        16390: ("_sparsevec", 16389, f"{SPARSEVEC_DUCKDB}[]"),
        1561: ("_bit", 1560, "BIT[]"),
        1563: ("_varbit", 1562, "BIT[]"),
    }
    assert {t.oid: (t.name, t.element_oid, t.duckdb) for t in ARRAY_TYPES} == expected
    for array_type in ARRAY_TYPES:
        assert type_by_oid(array_type.oid) is array_type
        assert BY_OID[array_type.element_oid].array_oid == array_type.oid
        assert array_type.typlen == -1
    assert INT8.element_oid == 0


# --- round trips -------------------------------------------------------------------------------

ROUND_TRIPS = [
    (BOOL_ARRAY, [True, None, False]),
    (BOOL_ARRAY, [[True], [False]]),
    (INT2_ARRAY, [-32768, None, 32767]),
    (INT2_ARRAY, [1, 2, 3]),
    (INT4_ARRAY, [-(2**31), 2**31 - 1]),
    (INT4_ARRAY, [[1, 2, 3], [4, None, 6]]),
    (INT8_ARRAY, [-(2**63), 0, 2**63 - 1]),
    (INT8_ARRAY, [None]),
    (INT8_ARRAY, [[[1], [2]], [[3], [4]]]),
    (FLOAT4_ARRAY, [0.5, -123.25, None, math.inf]),
    (FLOAT4_ARRAY, [[0.5, 1.0], [2.0, -0.0]]),
    (FLOAT8_ARRAY, [0.1 + 0.2, 5e-324, None, -1.5e300]),
    (TEXT_ARRAY, ["", "NULL", "null", None, 'a "b" \\c', "{x,y}", " lead", "tab\t", "é ✓"]),
    (TEXT_ARRAY, [["a", "b"], ["c", None]]),
    (VARCHAR_ARRAY, ["plain", "with space", None]),
    *[(array_type, []) for array_type in ARRAY_TYPES],
]


@pytest.mark.parametrize("format_code", FORMATS)
@pytest.mark.parametrize(("pgtype", "value"), ROUND_TRIPS)
def test_arrays_survive_a_round_trip(pgtype: PgType, value: list[Any], format_code: int) -> None:
    decoded = decode(encode(value, pgtype, format_code), pgtype, format_code)
    assert same_shape(decoded, value), decoded


def test_float_array_nan_survives_a_round_trip() -> None:
    for pgtype in (FLOAT4_ARRAY, FLOAT8_ARRAY):
        for format_code in FORMATS:
            (value,) = decode(encode([math.nan], pgtype, format_code), pgtype, format_code)
            assert math.isnan(value)


VECTOR_BATCHES = [
    [np.array([1.0, -2.5], dtype=np.float32), np.array([3e-7], dtype=np.float32)],
    [np.array([1.0], dtype=np.float32), None],
    [[np.array([1.0, 2.0], dtype=np.float32)], [np.array([3.0, 4.0], dtype=np.float32)]],
]


@pytest.mark.parametrize("format_code", FORMATS)
@pytest.mark.parametrize("batch", VECTOR_BATCHES)
def test_vector_arrays_survive_a_round_trip(batch: list[Any], format_code: int) -> None:
    decoded = decode(encode(batch, VECTOR_ARRAY, format_code), VECTOR_ARRAY, format_code)
    assert len(decoded) == len(batch)
    for got, expected in zip(decoded, batch, strict=True):
        if expected is None:
            assert got is None
            continue
        if isinstance(expected, list):  # two-dimensional: one more level of lists
            (got,), (expected,) = got, expected
        assert isinstance(got, np.ndarray) and got.dtype == np.float32
        np.testing.assert_array_equal(got, expected)


# --- text output -------------------------------------------------------------------------------

TEXT_OUTPUT = [
    (INT8_ARRAY, [1, None, -3], b"{1,NULL,-3}"),
    (INT8_ARRAY, np.array([4, 5], dtype=np.int64), b"{4,5}"),
    (INT4_ARRAY, [[1, 2], [3, 4]], b"{{1,2},{3,4}}"),
    (INT2_ARRAY, (7,), b"{7}"),
    (INT8_ARRAY, [], b"{}"),
    (INT8_ARRAY, [[], []], b"{}"),  # no elements: the empty array, as in PostgreSQL
    (BOOL_ARRAY, [True, False, None], b"{t,f,NULL}"),
    (FLOAT4_ARRAY, [0.1, math.nan, -math.inf, 1e6], b"{0.1,NaN,-Infinity,1e+06}"),
    (FLOAT8_ARRAY, [0.1 + 0.2, 1e15], b"{0.30000000000000004,1e+15}"),
    (
        TEXT_ARRAY,
        ["a", "a b", "", "NULL", "nUlL", 'q"', "back\\slash", "{}", "c,d", None],
        b'{a,"a b","","NULL","nUlL","q\\"","back\\\\slash","{}","c,d",NULL}',
    ),
    (TEXT_ARRAY, ["new\nline", "é"], '{"new\nline",é}'.encode()),
    (
        VECTOR_ARRAY,
        [np.array([1, 2], dtype=np.float32), np.array([3.5], dtype=np.float32), None],
        b'{"[1,2]",[3.5],NULL}',  # one-element vectors hold no comma: no quotes, as array_out
    ),
    (VECTOR_ARRAY, np.array([[1, 2], [3, 4]], dtype=np.float32), b'{"[1,2]","[3,4]"}'),
    (VECTOR_ARRAY, [[0.5, 1.0]], b'{"[0.5,1]"}'),  # a list of numbers is one vector
]


@pytest.mark.parametrize(("pgtype", "value", "expected"), TEXT_OUTPUT)
def test_text_output_is_array_out(pgtype: PgType, value: Any, expected: bytes) -> None:
    assert encode(value, pgtype, TEXT_FORMAT) == expected


# --- binary output -----------------------------------------------------------------------------

BINARY_OUTPUT = [
    (INT8_ARRAY, [1, 2], binary_array(20, [2], [int8(1), int8(2)])),
    (INT8_ARRAY, [1, None], binary_array(20, [2], [int8(1), None], flags=1)),
    (INT8_ARRAY, [], binary_array(20, [], [])),
    (
        INT4_ARRAY,
        [[1, 2], [3, 4]],
        binary_array(23, [2, 2], [struct.pack("!i", n) for n in (1, 2, 3, 4)]),
    ),
    (INT2_ARRAY, [-2], binary_array(21, [1], [b"\xff\xfe"])),
    (BOOL_ARRAY, [True, False], binary_array(16, [2], [b"\x01", b"\x00"])),
    (FLOAT4_ARRAY, [1.5], binary_array(700, [1], [struct.pack("!f", 1.5)])),
    (FLOAT8_ARRAY, [0.25, None], binary_array(701, [2], [struct.pack("!d", 0.25), None], flags=1)),
    (TEXT_ARRAY, ["é", ""], binary_array(25, [2], ["é".encode(), b""])),
    (VARCHAR_ARRAY, ["x"], binary_array(1043, [1], [b"x"])),
    (
        VECTOR_ARRAY,
        [np.array([1.0, -2.0], dtype=np.float32), None],
        binary_array(VECTOR_OID, [2], [pgvector(1.0, -2.0), None], flags=1),
    ),
]


@pytest.mark.parametrize(("pgtype", "value", "expected"), BINARY_OUTPUT)
def test_binary_output_is_array_send(pgtype: PgType, value: Any, expected: bytes) -> None:
    assert encode(value, pgtype, BINARY_FORMAT) == expected


@pytest.mark.parametrize("format_code", FORMATS)
def test_ragged_results_cannot_be_encoded(format_code: int) -> None:
    for ragged in ([[1, 2], [3]], [[1], 2], [None, [1]]):
        with pytest.raises(SqlvecError) as caught:
            encode(ragged, INT8_ARRAY, format_code)
        assert caught.value.sqlstate == "22000"
        assert caught.value.message == (
            "multidimensional arrays must have array expressions with matching dimensions"
        )


# --- text input --------------------------------------------------------------------------------

TEXT_INPUT = [
    (INT8_ARRAY, b"{1,2,3}", [1, 2, 3]),
    (INT8_ARRAY, b" { 1 , -2 ,NULL, +3 } ", [1, -2, None, 3]),
    (INT8_ARRAY, b"{{1,2},{3,4}}", [[1, 2], [3, 4]]),
    (INT8_ARRAY, b"{}", []),
    (INT8_ARRAY, b"{ }", []),
    (INT8_ARRAY, b'{"1", 2}', [1, 2]),
    (INT8_ARRAY, b"[0:1]={5,6}", [5, 6]),  # lower bounds are accepted but not kept
    (INT4_ARRAY, b"[1:2][1:1]={{1},{2}}", [[1], [2]]),
    (INT2_ARRAY, b"{{{1}}}", [[[1]]]),
    (BOOL_ARRAY, b"{t,f,yes,0,NULL}", [True, False, True, False, None]),
    (FLOAT4_ARRAY, b"{0.1,-Infinity}", [float(np.float32(0.1)), -math.inf]),
    (FLOAT8_ARRAY, b"{1e300, .5}", [1e300, 0.5]),
    (TEXT_ARRAY, b'{"a b",NULL,"",nUlL,"NULL"}', ["a b", None, "", None, "NULL"]),
    (TEXT_ARRAY, b'{\\,a,b\\ ,"c\\"d",e\\\\f}', [",a", "b ", 'c"d', "e\\f"]),
    (TEXT_ARRAY, b"{ a b , c }", ["a b", "c"]),  # inner spaces stay, outer ones go
    (TEXT_ARRAY, b"{\\NULL}", ["NULL"]),  # an escaped NULL is a string
    (TEXT_ARRAY, "{é,ü}".encode(), ["é", "ü"]),
    (VARCHAR_ARRAY, b'{"a,b",c}', ["a,b", "c"]),
]


@pytest.mark.parametrize(("pgtype", "data", "expected"), TEXT_INPUT)
def test_text_input_is_array_in(pgtype: PgType, data: bytes, expected: list[Any]) -> None:
    assert same_shape(decode(data, pgtype, TEXT_FORMAT), expected)


def test_text_vector_elements_are_quoted_vector_literals() -> None:
    decoded = decode(b'{"[1,2]", "[3]", NULL}', VECTOR_ARRAY, TEXT_FORMAT)
    assert decoded[2] is None
    assert [v.dtype for v in decoded[:2]] == [np.float32, np.float32]
    assert [v.tolist() for v in decoded[:2]] == [[1.0, 2.0], [3.0]]


MALFORMED = [
    (b"1", 'Array value must start with "{" or dimension information.'),
    (b"{1,,2}", 'Unexpected "," character.'),
    (b"{,}", 'Unexpected "," character.'),
    (b"{1,}", 'Unexpected "}" character.'),
    (b"{{}}", 'Unexpected "}" character.'),
    (b"{}}", "Junk after closing right brace."),
    (b"{1} x", "Junk after closing right brace."),
    (b"{1", "Unexpected end of input."),
    (b'{"a}', "Unexpected end of input."),
    (b"{a\\", "Unexpected end of input."),
    (b'{"a"\\b}', 'Unexpected "\\" character.'),
    (b'{"a"b}', "Unexpected array element."),
    (b'{a"b"}', "Unexpected array element."),
    (b"{1,{2}}", 'Unexpected "{" character.'),
    (b"{{1},2}", "Unexpected array element."),
    (b"{{1},{2,3}}", "Multidimensional arrays must have sub-arrays with matching dimensions."),
    # PostgreSQL 15 accepts these two (and loses elements); 16 and sqlvec refuse them.
    (b"{{1},{{2}}}", "Multidimensional arrays must have sub-arrays with matching dimensions."),
    (b"{{{1}},{2}}", "Multidimensional arrays must have sub-arrays with matching dimensions."),
    (b"[x]={1}", '"[" must introduce explicitly-specified array dimensions.'),
    (b"[1:x]={1}", "Missing array dimension value."),
    (b"[1={1}", 'Missing "]" after array dimensions.'),
    (b"[1]{1}", 'Missing "=" after array dimensions.'),
    (b"[1]=1", 'Array contents must start with "{".'),
    (b"[1:2]={1}", "Specified array dimensions do not match array contents."),
]


@pytest.mark.parametrize(("data", "detail"), MALFORMED)
def test_malformed_literals_raise_array_in_errors(data: bytes, detail: str) -> None:
    error = decode_error(data, TEXT_ARRAY, TEXT_FORMAT)
    assert (error.sqlstate, error.message, error.detail) == (
        "22P02",
        f'malformed array literal: "{data.decode()}"',
        detail,
    )


TEXT_INPUT_ERRORS = [
    (INT8_ARRAY, b"{1,x}", "22P02", 'invalid input syntax for type bigint: "x"'),
    (INT8_ARRAY, b"{ 1 2 }", "22P02", 'invalid input syntax for type bigint: "1 2"'),
    (INT2_ARRAY, b"{1,40000}", "22003", 'value "40000" is out of range for type smallint'),
    (FLOAT4_ARRAY, b"{1e39}", "22003", '"1e39" is out of range for type real'),
    (BOOL_ARRAY, b"{maybe}", "22P02", 'invalid input syntax for type boolean: "maybe"'),
    (VECTOR_ARRAY, b'{"[1,NaN]"}', "22000", "NaN not allowed in vector"),
    (VECTOR_ARRAY, b"{[1,2]}", "22P02", 'invalid input syntax for type vector: "[1"'),
    (
        INT8_ARRAY,
        b"{{{{{{{1}}}}}}}",
        "54000",
        "number of array dimensions (7) exceeds the maximum allowed (6)",
    ),
    (
        INT8_ARRAY,
        b"[1][1][1][1][1][1][1]={{{{{{{1}}}}}}}",
        "54000",
        "number of array dimensions (7) exceeds the maximum allowed (6)",
    ),
    (INT8_ARRAY, b"[2:1]={}", "2202E", "upper bound cannot be less than lower bound"),
    (TEXT_ARRAY, b"{a\0}", "22021", 'invalid byte sequence for encoding "UTF8": 0x00'),
]


@pytest.mark.parametrize(("pgtype", "data", "sqlstate", "message"), TEXT_INPUT_ERRORS)
def test_bad_text_elements_raise_the_element_error(
    pgtype: PgType, data: bytes, sqlstate: str, message: str
) -> None:
    error = decode_error(data, pgtype, TEXT_FORMAT)
    assert (error.sqlstate, error.message) == (sqlstate, message)


# --- binary input ------------------------------------------------------------------------------

BINARY_INPUT = [
    (INT8_ARRAY, binary_array(20, [3], [int8(1), int8(-2), int8(2**62)]), [1, -2, 2**62]),
    (INT8_ARRAY, binary_array(20, [2], [int8(1), None], flags=1), [1, None]),
    # array_recv trusts the lengths, not the has-null flag.
    (INT8_ARRAY, binary_array(20, [2], [None, int8(5)], flags=0), [None, 5]),
    (INT8_ARRAY, binary_array(20, [], []), []),
    (INT8_ARRAY, binary_array(20, [0], []), []),
    (INT8_ARRAY, binary_array(20, [2, 0], []), []),
    (INT8_ARRAY, binary_array(20, [1], [int8(7)], lower_bound=0), [7]),
    (
        INT4_ARRAY,
        binary_array(23, [2, 2], [struct.pack("!i", n) for n in (1, 2, 3, 4)]),
        [[1, 2], [3, 4]],
    ),
    (INT2_ARRAY, binary_array(21, [2], [b"\x80\x00", b"\x7f\xff"]), [-32768, 32767]),
    (BOOL_ARRAY, binary_array(16, [3], [b"\x02", b"\x00", None]), [True, False, None]),
    (BOOL_ARRAY, binary_array(16, [2], [b"\x02", b"\x00"]), [True, False]),  # any non-zero
    (FLOAT4_ARRAY, binary_array(700, [1], [struct.pack("!f", 0.1)]), [float(np.float32(0.1))]),
    (FLOAT8_ARRAY, binary_array(701, [2], [struct.pack("!d", 1e100), None]), [1e100, None]),
    (TEXT_ARRAY, binary_array(25, [2], [b"a b", b""]), ["a b", ""]),
    (VARCHAR_ARRAY, binary_array(1043, [1], [None]), [None]),
]


@pytest.mark.parametrize(("pgtype", "data", "expected"), BINARY_INPUT)
def test_binary_input_is_array_recv(pgtype: PgType, data: bytes, expected: list[Any]) -> None:
    assert same_shape(decode(data, pgtype, BINARY_FORMAT), expected)


def test_binary_vector_arrays_hold_pgvector_elements() -> None:
    data = binary_array(VECTOR_OID, [3], [pgvector(1.0, 0.5), None, pgvector(-8.0)], flags=1)
    first, missing, last = decode(data, VECTOR_ARRAY, BINARY_FORMAT)
    assert missing is None
    assert first.dtype == np.float32 and first.tolist() == [1.0, 0.5]
    assert last.tolist() == [-8.0]


def test_element_type_of_extension_types_is_not_checked() -> None:
    # As array_recv: only built-in OIDs are stable enough to compare; pgvector's is not.
    data = binary_array(16999, [1], [pgvector(2.0)])
    (vector,) = decode(data, VECTOR_ARRAY, BINARY_FORMAT)
    assert vector.tolist() == [2.0]


def test_large_binary_arrays_decode_in_bulk() -> None:
    values = list(range(-50_000, 50_000))
    data = binary_array(20, [len(values)], [int8(v) for v in values])
    decoded = decode(data, INT8_ARRAY, BINARY_FORMAT)
    assert decoded == values and type(decoded[0]) is int
    assert encode(decoded, INT8_ARRAY, BINARY_FORMAT) == data


# PostgreSQL answers 08P01 where a fixed-size field runs past the end and 22P03 where a length
# does; sqlvec answers 22P03 for both, as its scalar codecs do for binary values of the wrong size.
INSUFFICIENT = "insufficient data left in message"
TRAILING = "incorrect binary data format in bind parameter 2"
BINARY_INPUT_ERRORS = [
    (INT8_ARRAY, b"", "22P03", INSUFFICIENT),
    (INT8_ARRAY, struct.pack("!ii", 1, 0), "22P03", INSUFFICIENT),
    (INT8_ARRAY, binary_array(20, [2], [int8(1), int8(2)])[:-1], "22P03", INSUFFICIENT),
    (INT8_ARRAY, binary_array(20, [3], [int8(1), int8(2)]), "22P03", INSUFFICIENT),
    (INT8_ARRAY, binary_array(20, [1], [None])[:-2], "22P03", INSUFFICIENT),
    (INT8_ARRAY, binary_array(20, [1], []) + struct.pack("!i", -2), "22P03", INSUFFICIENT),
    (INT8_ARRAY, binary_array(20, [1], []) + struct.pack("!i", 99) + b"abc", "22P03", INSUFFICIENT),
    # A count the message cannot hold is refused before anything is allocated for it.
    (INT8_ARRAY, binary_array(20, [2**26], []), "22P03", INSUFFICIENT),
    (INT8_ARRAY, binary_array(20, [2], [int8(1), int8(2)]) + b"x", "22P03", TRAILING),
    (INT8_ARRAY, binary_array(20, [], []) + b"z", "22P03", TRAILING),
    (
        INT8_ARRAY,
        binary_array(20, [1], [int8(1) + b"\0"]),
        "22P03",
        "improper binary format in array element 1",
    ),
    (
        FLOAT4_ARRAY,
        binary_array(700, [2], [struct.pack("!f", 1.0), b"\0\0\0"]),
        "22P03",
        "improper binary format in array element 2",
    ),
    (
        VECTOR_ARRAY,
        binary_array(VECTOR_OID, [1], [pgvector(1.0)[:-1]]),
        "22P03",
        "improper binary format in array element 1",
    ),
    (INT8_ARRAY, binary_array(20, [], [], ndim=-1), "22P03", "invalid number of dimensions: -1"),
    (INT8_ARRAY, binary_array(20, [1], [int8(1)], flags=2), "22P03", "invalid array flags"),
    (
        INT8_ARRAY,
        binary_array(20, [1] * 7, [int8(1)]),
        "54000",
        "number of array dimensions (7) exceeds the maximum allowed (6)",
    ),
    (
        INT8_ARRAY,
        binary_array(20, [2**30, 2**30], []),
        "54000",
        "array size exceeds the maximum allowed (134217727)",
    ),
    (
        INT8_ARRAY,
        binary_array(20, [-1], []),
        "54000",
        "array size exceeds the maximum allowed (134217727)",
    ),
    (
        INT8_ARRAY,
        binary_array(23, [1], [struct.pack("!i", 1)]),
        "42804",
        "binary data has array element type 23 (integer) instead of expected 20 (bigint)",
    ),
    (
        TEXT_ARRAY,
        binary_array(1043, [1], [b"a"]),
        "42804",
        "binary data has array element type 1043 (character varying) instead of expected 25 (text)",
    ),
    (
        VECTOR_ARRAY,
        binary_array(VECTOR_OID, [1], [pgvector(math.nan)]),
        "22000",
        "NaN not allowed in vector",
    ),
    (
        TEXT_ARRAY,
        binary_array(25, [1], [b"\xff"]),
        "22021",
        'invalid byte sequence for encoding "UTF8": 0xff',
    ),
]


@pytest.mark.parametrize(("pgtype", "data", "sqlstate", "message"), BINARY_INPUT_ERRORS)
def test_bad_binary_input_raises_array_recv_errors(
    pgtype: PgType, data: bytes, sqlstate: str, message: str
) -> None:
    error = decode_error(data, pgtype, BINARY_FORMAT)
    assert (error.sqlstate, error.message) == (sqlstate, message)


def test_null_array_parameters_decode_to_none() -> None:
    assert decode_parameter(None, INT8_ARRAY, BINARY_FORMAT, 1) is None
    assert decode_parameter(None, VECTOR_ARRAY, TEXT_FORMAT, 1) is None
