"""The COPY FROM readers (text, csv, binary) and the COPY TO writers, without a server.

Every reader is also fed its input one byte at a time: a row cut anywhere by CopyData message
boundaries must read the same as in one piece.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import pytest

from sqlvec.copy.binary_format import HEADER, TRAILER, BinaryReader, binary_rows
from sqlvec.copy.columns import ColumnBuffers, CopyTarget
from sqlvec.copy.csv_format import CsvReader, csv_header, csv_rows
from sqlvec.copy.options import CopyOptions
from sqlvec.copy.text_format import TextReader, text_header, text_rows, unescape
from sqlvec.engine.catalog import ColumnSpec
from sqlvec.errors import SqlvecError
from sqlvec.types import BOOL, FLOAT4, FLOAT8, INT4, INT8, TEXT, VECTOR
from sqlvec.wire.codecs import BINARY_FORMAT, TEXT_FORMAT, result_encoders
from sqlvec.wire.handler import ColumnDesc

ID = ColumnSpec("id", INT8, primary_key=True, not_null=True)
TITLE = ColumnSpec("title", TEXT)
NOTE = ColumnSpec("note", TEXT)
YEAR = ColumnSpec("year", INT4)
EMBEDDING = ColumnSpec("embedding", VECTOR, dim=2, not_null=True)


def read(
    kind: str, data: bytes, columns: tuple[ColumnSpec, ...], options: CopyOptions, bytewise: bool
) -> dict[str, Any]:
    buffers = ColumnBuffers(columns)
    target = CopyTarget("t", columns)
    reader: Any
    if kind == "binary":
        reader = BinaryReader(target, buffers)
    elif kind == "csv":
        reader = CsvReader(target, options, buffers)
    else:
        reader = TextReader(target, options, buffers)
    if bytewise:
        rest = b""
        for i in range(len(data)):
            rest = reader.feed(rest + data[i : i + 1], False)
        assert reader.feed(rest, True) == b""
    else:
        assert reader.feed(data, True) == b""
    values = buffers.values()
    values["count"] = buffers.count
    return values


def listed(values: Any) -> list[Any]:
    """An integer column without NULLs comes as an int64 array, the others as lists."""
    return values.tolist() if isinstance(values, np.ndarray) else list(values)


def read_both(
    kind: str, data: bytes, columns: tuple[ColumnSpec, ...], **options: Any
) -> dict[str, Any]:
    copy_options = CopyOptions(format=kind, **options)
    whole = read(kind, data, columns, copy_options, bytewise=False)
    pieces = read(kind, data, columns, copy_options, bytewise=True)
    assert whole.keys() == pieces.keys()
    for key in whole:
        assert type(whole[key]) is type(pieces[key])
        if isinstance(whole[key], np.ndarray):
            assert np.array_equal(whole[key], pieces[key])
        else:
            assert whole[key] == pieces[key]
    return whole


def error_of(
    kind: str, data: bytes, columns: tuple[ColumnSpec, ...], **options: Any
) -> SqlvecError:
    with pytest.raises(SqlvecError) as info:
        read(kind, data, columns, CopyOptions(format=kind, **options), bytewise=False)
    return info.value


# --- text --------------------------------------------------------------------------------------


def test_text_values_nulls_escapes_and_end_marker() -> None:
    data = (
        b"1\tplain\t[1,2]\n"
        b"2\t\\N\t[3,4]\r\n"
        b"3\ttab\\there \\\\ \\101\\x42\\n\t[5,6]\n"
        b"4\t\xc3\xbc\t[7,8]\n"
        b"\\.\n"
        b"5\tafter the end\t[0,0]\n"
    )
    values = read_both("text", data, (ID, TITLE, EMBEDDING))
    assert values["count"] == 4
    assert values["id"].tolist() == [1, 2, 3, 4]
    assert values["title"] == ["plain", None, "tab\there \\ AB\n", "ü"]
    assert values["embedding"].dtype == np.float32
    assert values["embedding"].tolist() == [[1, 2], [3, 4], [5, 6], [7, 8]]


def test_text_header_delimiter_and_null_options() -> None:
    data = b"id|title|embedding\n1|a\\|b|[1,2]\n2||[3,4]\n3|-|[5,6]"  # no final newline
    values = read_both("text", data, (ID, TITLE, EMBEDDING), delimiter="|", null="-", header=True)
    assert values["title"] == ["a|b", "", None]


def test_text_header_match() -> None:
    columns = (ID, TITLE)
    read_both("text", b"id\ttitle\n1\tx\n", columns, header=True, header_match=True)
    error = error_of("text", b"id\tname\n1\tx\n", columns, header=True, header_match=True)
    assert (error.sqlstate, error.message) == (
        "22P04",
        'column name mismatch in header line field 2: got "name", expected "title"',
    )


@pytest.mark.parametrize(
    ("data", "sqlstate", "message", "context"),
    [
        (b"1\tx\n", "22P04", 'missing data for column "embedding"', 'COPY t, line 1: "1\tx"'),
        (
            b"1\tx\t[1,2]\t4\n",
            "22P04",
            "extra data after last expected column",
            'COPY t, line 1: "1\tx\t[1,2]\t4"',
        ),
        (
            b"1\tx\t[1,2]\n1.5\tx\t[1,2]\n",
            "22P02",
            'invalid input syntax for type bigint: "1.5"',
            'COPY t, line 2, column id: "1.5"',
        ),
        (
            b"1\tx\t[1,2,3]\n",
            "22000",
            "expected 2 dimensions, not 3",
            'COPY t, line 1, column embedding: "[1,2,3]"',
        ),
        (
            b"1\tx\t1,2\n",
            "22P02",
            'invalid input syntax for type vector: "1,2"',
            'COPY t, line 1, column embedding: "1,2"',
        ),
        (
            b"1\tx\t\\N\n",
            "23502",
            'null value in column "embedding" of relation "t" violates not-null constraint',
            'COPY t, line 1: "1\tx\t\\N"',
        ),
        (
            b"1\t\xff\t[1,2]\n",
            "22021",
            'invalid byte sequence for encoding "UTF8": 0xff',
            'COPY t, line 1, column title: "\ufffd"',
        ),
        (
            b"99999999999999999999\tx\t[1,2]\n",
            "22003",
            'value "99999999999999999999" is out of range for type bigint',
            'COPY t, line 1, column id: "99999999999999999999"',
        ),
    ],
)
def test_text_errors(data: bytes, sqlstate: str, message: str, context: str) -> None:
    error = error_of("text", data, (ID, TITLE, EMBEDDING))
    assert (error.sqlstate, error.message, error.context) == (sqlstate, message, context)


def test_long_values_are_cut_in_the_context() -> None:
    error = error_of("text", b"1\t" + b"x" * 300 + b"\t[1]\n", (ID, TITLE, EMBEDDING))
    assert error.context == 'COPY t, line 1, column embedding: "[1]"'
    error = error_of("text", b"1\t" + b"x" * 300 + b"\n", (ID, TITLE, EMBEDDING))
    assert error.context == 'COPY t, line 1: "1\t' + "x" * 98 + '..."'


def test_unescape() -> None:
    assert unescape(b"a\\bb\\fc\\vd\\r\\\\") == b"a\bb\fc\vd\r\\"
    assert unescape(b"\\7\\77\\777\\0101") == b"\x07?\xff\x081"
    assert unescape(b"\\x4\\x41\\x414\\xg\\q\\") == b"\x04AA4xgq\\"


# --- csv ---------------------------------------------------------------------------------------


def test_csv_quoting_null_and_multiline_records() -> None:
    data = (
        b'1,"",""\n'  # quoted empty: an empty string, not NULL
        b"2,,\n"  # unquoted empty: NULL
        b'3,a"b,c"d,"multi\nline ""quoted"""\r\n'
        b'4,"\\.",x\n'
        b"\\.\n"
        b"5,ignored,x\n"
    )
    values = read_both("csv", data, (ID, TITLE, NOTE), delimiter=",", null="")
    assert values["title"] == ["", None, "ab,cd", "\\."]
    assert values["note"] == ["", None, 'multi\nline "quoted"', "x"]


def test_csv_escape_force_null_and_force_not_null() -> None:
    data = b'1,"a\\"b\\\\c\\d",NA\n2,NA,"NA"\n'
    options = {"delimiter": ",", "null": "NA", "escape": "\\"}
    values = read_both("csv", data, (ID, TITLE, NOTE), **options)
    assert values["title"] == ['a"b\\c\\d', None]
    assert values["note"] == [None, "NA"]
    values = read_both("csv", data, (ID, TITLE, NOTE), force_not_null=("note",), **options)
    assert values["note"] == ["NA", "NA"]
    values = read_both("csv", data, (ID, TITLE, NOTE), force_null=("note",), **options)
    assert values["note"] == [None, None]


def test_csv_header_and_vectors() -> None:
    data = b'id;embedding\n1;"[1,2]"\n2;[3.5e0,4]\n'
    values = read_both("csv", data, (ID, EMBEDDING), delimiter=";", null="", header=True)
    assert values["embedding"].tolist() == [[1, 2], [3.5, 4]]


def test_csv_errors() -> None:
    error = error_of("csv", b'1,"open\n', (ID, TITLE), delimiter=",", null="")
    assert (error.sqlstate, error.message) == ("22P04", "unterminated CSV quoted field")
    error = error_of("csv", b"1,a\n2\n", (ID, TITLE), delimiter=",", null="")
    assert (error.message, error.context) == (
        'missing data for column "title"',
        'COPY t, line 2: "2"',
    )


# --- binary ------------------------------------------------------------------------------------


def binary_stream(rows: list[tuple[Any, ...]], columns: tuple[ColumnSpec, ...]) -> bytes:
    descs = [ColumnDesc(c.name, c.type) for c in columns]
    encoded = binary_rows(rows, result_encoders(descs, [BINARY_FORMAT] * len(descs)))
    return HEADER + b"".join(encoded) + TRAILER


FIXED = (
    ID,
    ColumnSpec("small", INT4),
    ColumnSpec("ratio", FLOAT4),
    ColumnSpec("score", FLOAT8),
    ColumnSpec("flag", BOOL),
    EMBEDDING,
)


def fixed_rows(count: int, null_every: int = 0) -> list[tuple[Any, ...]]:
    rows = []
    for i in range(count):
        small = None if null_every and i % null_every == 1 else i * 3
        vector = np.array([i, -i / 3], dtype=np.float32)
        rows.append((i, small, i / 4, i / 7, i % 2 == 0, vector))
    return rows


@pytest.mark.parametrize("null_every", [0, 1, 5, 97])
def test_binary_bulk_and_row_paths_agree(null_every: int) -> None:
    rows = fixed_rows(400, null_every)
    values = read_both("binary", binary_stream(rows, FIXED), FIXED)
    assert values["count"] == 400
    assert values["id"].tolist() == list(range(400))
    assert listed(values["small"]) == [r[1] for r in rows]
    assert values["ratio"] == [r[2] for r in rows]
    assert values["score"] == [r[3] for r in rows]
    assert values["flag"] == [r[4] for r in rows]
    assert np.array_equal(values["embedding"], np.stack([r[5] for r in rows]))


def test_binary_text_columns_header_extension_and_no_trailer() -> None:
    columns = (ID, TITLE, EMBEDDING)
    rows = [(1, "ünï", np.array([1, 2], np.float32)), (2, None, np.array([3, 4], np.float32))]
    stream = binary_stream(rows, columns)
    with_extension = stream[:15] + struct.pack("!i", 3) + b"abc" + stream[19:]
    values = read_both("binary", with_extension, columns)
    assert values["title"] == ["ünï", None]
    values = read_both("binary", stream[:-2], columns)  # the trailer may be left out
    assert values["count"] == 2


@pytest.mark.parametrize(
    ("mangle", "sqlstate", "message", "context"),
    [
        (
            lambda s: b"PGCOPY\n\xff\r\n\x01" + s[11:],
            "22P04",
            "COPY file signature not recognized",
            None,
        ),
        (
            lambda s: s[:11] + struct.pack("!i", 1 << 16) + s[15:],
            "22P04",
            "invalid COPY file header (WITH OIDS)",
            None,
        ),
        (
            lambda s: s[:11] + struct.pack("!i", 1 << 17) + s[15:],
            "22P04",
            "unrecognized critical flags in COPY file header",
            None,
        ),
        (lambda s: s[:5], "22P04", "COPY file signature not recognized", None),
        (lambda s: s[:-7], "22P04", "unexpected EOF in COPY data", None),
        (lambda s: s + b"\x00", "22P04", "received copy data after EOF marker", None),
        (
            lambda s: s[:19] + struct.pack("!h", 5) + s[21:],
            "22P04",
            "row field count is 5, expected 2",
            "COPY t, line 1",
        ),
        (
            lambda s: s[:21] + struct.pack("!i", 4) + s[25:],
            "22P03",
            "incorrect binary data format",
            "COPY t, line 1, column id",
        ),
        (
            lambda s: s[:21] + struct.pack("!i", -1) + s[33:],
            "23502",
            'null value in column "id" of relation "t" violates not-null constraint',
            "COPY t, line 1",
        ),
        (
            lambda s: s[:49] + struct.pack("!h", 3) + s[51:],
            "22P04",
            "row field count is 3, expected 2",
            "COPY t, line 2",
        ),
    ],
)
def test_binary_errors(mangle: Any, sqlstate: str, message: str, context: str | None) -> None:
    columns = (ID, EMBEDDING)
    stream = binary_stream(
        [(1, np.array([1, 2], np.float32)), (2, np.array([3, 4], np.float32))], columns
    )
    error = error_of("binary", mangle(stream), columns)
    assert (error.sqlstate, error.message, error.context) == (sqlstate, message, context)


def test_binary_vector_checks_in_the_bulk_path() -> None:
    columns = (ID, EMBEDDING)
    rows = [(i, np.array([i, i], np.float32)) for i in range(300)]
    rows[250] = (250, np.array([np.inf, 0], np.float32))
    error = error_of("binary", binary_stream(rows, columns), columns)
    assert (error.sqlstate, error.message, error.context) == (
        "22000",
        "infinite value not allowed in vector",
        "COPY t, line 251",
    )
    rows[250] = (250, np.array([1, 2, 3], np.float32))
    error = error_of("binary", binary_stream(rows, columns), columns)
    assert (error.sqlstate, error.message, error.context) == (
        "22000",
        "expected 2 dimensions, not 3",
        "COPY t, line 251, column embedding",
    )


# --- writers -----------------------------------------------------------------------------------

OUT_COLUMNS = [ColumnDesc("id", INT8), ColumnDesc("title", TEXT), ColumnDesc("v", VECTOR, 2)]
OUT_ROWS = [
    (1, "a\tb\\c\nd", np.array([1.5, -2], np.float32)),
    (2, None, np.array([1e-7, 3], np.float32)),
    (3, "", np.array([0, 0], np.float32)),
    (4, 'q"u,o', np.array([1, 1], np.float32)),
]


def test_text_writer() -> None:
    encoders = result_encoders(OUT_COLUMNS, [TEXT_FORMAT] * 3)
    lines = text_rows(OUT_ROWS, encoders, CopyOptions())
    assert lines == [
        b"1\ta\\tb\\\\c\\nd\t[1.5,-2]\n",
        b"2\t\\N\t[1e-07,3]\n",
        b"3\t\t[0,0]\n",
        b'4\tq"u,o\t[1,1]\n',
    ]
    assert text_header(["id", "title"], CopyOptions()) == b"id\ttitle\n"
    back = read_both("text", b"".join(lines), (ID, TITLE, EMBEDDING))
    assert back["title"] == [r[1] for r in OUT_ROWS]


def test_csv_writer() -> None:
    encoders = result_encoders(OUT_COLUMNS, [TEXT_FORMAT] * 3)
    options = CopyOptions(format="csv", delimiter=",", null="")
    lines = csv_rows(OUT_ROWS, encoders, ["id", "title", "v"], options)
    assert lines == [
        b'1,"a\tb\\c\nd","[1.5,-2]"\n',
        b'2,,"[1e-07,3]"\n',
        b'3,"","[0,0]"\n',
        b'4,"q""u,o","[1,1]"\n',
    ]
    forced = CopyOptions(format="csv", delimiter=",", null="", force_quote_all=True)
    assert csv_rows([(7, "x", None)], encoders, ["id", "title", "v"], forced) == [b'"7","x",\n']
    assert csv_header(["id", "a,b"], forced) == b'id,"a,b"\n'
    back = read_both("csv", b"".join(lines), (ID, TITLE, EMBEDDING), delimiter=",", null="")
    assert back["title"] == [r[1] for r in OUT_ROWS]


def test_binary_writer_round_trip() -> None:
    rows = fixed_rows(50, null_every=9)
    descs = [ColumnDesc(c.name, c.type, c.typmod) for c in FIXED]
    encoded = binary_rows(rows, result_encoders(descs, [BINARY_FORMAT] * len(descs)))
    assert len(encoded) == 50 and struct.unpack_from("!h", encoded[0])[0] == len(FIXED)
    values = read_both("binary", HEADER + b"".join(encoded) + TRAILER, FIXED)
    assert listed(values["small"]) == [r[1] for r in rows]
