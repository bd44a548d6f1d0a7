"""Backend messages byte for byte; frontend messages decoded into their dataclasses."""

from __future__ import annotations

import struct
from collections.abc import Callable

import numpy as np
import pytest
from wire_fakes import bind, cstring, describe, execute, parse

from sqlvec.errors import Notice, ProtocolError, ProtocolViolation, UndefinedTable
from sqlvec.types import INT8, TEXT, VECTOR
from sqlvec.wire import messages as msg
from sqlvec.wire.buffer import WriteBuffer
from sqlvec.wire.codecs import BINARY_FORMAT, TEXT_FORMAT, encoded_row, result_encoders
from sqlvec.wire.handler import ColumnDesc


def written(write: Callable[[WriteBuffer], None]) -> bytes:
    buf = WriteBuffer()
    write(buf)
    return buf.take()


BACKEND_MESSAGES = [
    (msg.write_authentication_ok, b"R\x00\x00\x00\x08\x00\x00\x00\x00"),
    (
        lambda b: msg.write_parameter_status(b, "client_encoding", "UTF8"),
        b"S\x00\x00\x00\x19client_encoding\x00UTF8\x00",
    ),
    (
        lambda b: msg.write_backend_key_data(b, 4242, -7),
        b"K\x00\x00\x00\x0c\x00\x00\x10\x92\xff\xff\xff\xf9",
    ),
    (lambda b: msg.write_ready_for_query(b, "T"), b"Z\x00\x00\x00\x05T"),
    (lambda b: msg.write_command_complete(b, "SELECT 1"), b"C\x00\x00\x00\x0dSELECT 1\x00"),
    (msg.write_empty_query_response, b"I\x00\x00\x00\x04"),
    (msg.write_parse_complete, b"1\x00\x00\x00\x04"),
    (msg.write_bind_complete, b"2\x00\x00\x00\x04"),
    (msg.write_close_complete, b"3\x00\x00\x00\x04"),
    (msg.write_no_data, b"n\x00\x00\x00\x04"),
    (msg.write_portal_suspended, b"s\x00\x00\x00\x04"),
    (
        lambda b: msg.write_parameter_description(b, [20, 16385]),
        b"t\x00\x00\x00\x0e\x00\x02\x00\x00\x00\x14\x00\x00\x40\x01",
    ),
    (
        lambda b: msg.write_negotiate_protocol_version(b, ["_pq_.x"]),
        b"v\x00\x00\x00\x13\x00\x00\x00\x00\x00\x00\x00\x01_pq_.x\x00",
    ),
]


@pytest.mark.parametrize(("write", "expected"), BACKEND_MESSAGES)
def test_backend_messages_are_byte_exact(
    write: Callable[[WriteBuffer], None], expected: bytes
) -> None:
    assert written(write) == expected


def test_row_description_carries_type_size_typmod_and_format() -> None:
    columns = [
        ColumnDesc("id", INT8, table_oid=16400, column_number=1),
        ColumnDesc("v", VECTOR, typmod=3),
    ]
    body = b"\x00\x02"
    body += b"id\x00" + struct.pack("!IhIhih", 16400, 1, 20, 8, -1, 1)
    body += b"v\x00" + struct.pack("!IhIhih", 0, 0, 16385, -1, 3, 0)
    expected = b"T" + struct.pack("!i", len(body) + 4) + body
    assert written(lambda b: msg.write_row_description(b, columns, [1, 0])) == expected


def test_data_row_encodes_null_as_minus_one_length() -> None:
    columns = [ColumnDesc("id", INT8), ColumnDesc("t", TEXT), ColumnDesc("v", VECTOR)]
    encoders = result_encoders(columns, [BINARY_FORMAT, TEXT_FORMAT, TEXT_FORMAT])
    row = (np.int64(1), None, np.array([1, 2], dtype=np.float32))
    body = b"\x00\x03" + b"\x00\x00\x00\x08" + b"\x00" * 7 + b"\x01"
    body += b"\xff\xff\xff\xff" + b"\x00\x00\x00\x05[1,2]"
    expected = b"D" + struct.pack("!i", len(body) + 4) + body
    assert written(lambda b: msg.write_data_row(b, row, encoders)) == expected
    other = (np.int64(2), "x", None)
    both = written(lambda b: msg.write_data_rows(b, [row, other], encoders))
    assert both == expected + written(lambda b: msg.write_data_row(b, other, encoders))


@pytest.mark.parametrize("format_code", [TEXT_FORMAT, BINARY_FORMAT])
def test_single_column_rows_are_encoded_as_the_general_tuple(format_code: int) -> None:
    encoders = result_encoders([ColumnDesc("id", INT8)], [format_code])
    rows = [(np.int64(7),), (None,), (np.int64(-12345678901),)]
    expected = b""
    for row in rows:
        body = encoded_row(row, encoders)
        expected += b"D" + struct.pack("!i", len(body) + 4) + body
    assert written(lambda b: msg.write_data_rows(b, rows, encoders)) == expected
    assert expected.startswith(b"D\x00\x00\x00" + bytes([10 + (1 if format_code == 0 else 8)]))


def test_multi_column_rows_are_encoded_as_the_general_tuple() -> None:
    columns = [ColumnDesc("qid", INT8), ColumnDesc("t", TEXT), ColumnDesc("v", VECTOR)]
    encoders = result_encoders(columns, [TEXT_FORMAT, BINARY_FORMAT, TEXT_FORMAT])
    rows = [
        (np.int64(i), None if i % 3 == 0 else f"row {i}", np.array([i, 0.5], np.float32))
        for i in range(7)
    ]
    expected = b""
    for row in rows:
        body = encoded_row(row, encoders)
        expected += b"D" + struct.pack("!i", len(body) + 4) + body
    assert written(lambda b: msg.write_data_rows(b, rows, encoders)) == expected


def test_rows_before_a_value_that_cannot_be_encoded_are_written() -> None:
    columns = [ColumnDesc("qid", INT8), ColumnDesc("n", INT8)]
    encoders = result_encoders(columns, [TEXT_FORMAT, TEXT_FORMAT])
    rows = [(1, 10), (2, 20), (3, "not a number"), (4, 40)]
    buf = WriteBuffer()
    with pytest.raises(TypeError):
        msg.write_data_rows(buf, rows, encoders)
    good = WriteBuffer()
    msg.write_data_rows(good, rows[:2], encoders)
    assert buf.take() == good.take()


def test_error_response_fields_come_from_error_fields() -> None:
    error = UndefinedTable('relation "t" does not exist', position=15)
    body = b'SERROR\x00VERROR\x00C42P01\x00Mrelation "t" does not exist\x00P15\x00\x00'
    expected = b"E" + struct.pack("!i", len(body) + 4) + body
    assert written(lambda b: msg.write_error_response(b, error)) == expected


def test_error_response_severity_can_be_raised_to_fatal() -> None:
    data = written(lambda b: msg.write_error_response(b, UndefinedTable("x"), severity="FATAL"))
    assert b"SFATAL\x00VFATAL\x00C42P01\x00" in data


def test_notice_response_uses_notice_fields() -> None:
    notice = Notice("index not used", hint="build it")
    body = b"SNOTICE\x00VNOTICE\x00C00000\x00Mindex not used\x00Hbuild it\x00\x00"
    expected = b"N" + struct.pack("!i", len(body) + 4) + body
    assert written(lambda b: msg.write_notice_response(b, notice)) == expected


def decoded(wire_message: bytes) -> msg.FrontendMessage:
    """Decode a whole framed frontend message."""
    return msg.decode_frontend_message(wire_message[:1], wire_message[5:])


def test_parse_is_decoded() -> None:
    assert decoded(parse("s1", "select $1", (20, 0))) == msg.Parse("s1", "select $1", [20, 0])


def test_bind_is_decoded_with_nulls_and_formats() -> None:
    wire = bind("p", "s", (b"\x00\x01", None, b""), param_formats=(1, 0, 0), result_formats=(1,))
    assert decoded(wire) == msg.Bind("p", "s", [1, 0, 0], [b"\x00\x01", None, b""], [1])
    bare = bind("", "", ())
    assert decoded(bare) == msg.Bind("", "", [], [], [])


def test_describe_close_and_execute_are_decoded() -> None:
    assert decoded(describe(b"S", "s1")) == msg.Describe("S", "s1")
    assert decoded(b"C\x00\x00\x00\x06P\x00") == msg.Close("P", "")
    assert decoded(execute("p", 10)) == msg.Execute("p", 10)


def test_a_negative_row_limit_means_all_rows() -> None:
    assert decoded(execute("", -1)) == msg.Execute("", 0)


def test_copy_messages_are_decoded() -> None:
    assert decoded(b"d\x00\x00\x00\x07a\x00b") == msg.CopyData(b"a\x00b")
    assert decoded(b"c\x00\x00\x00\x04") == msg.CopyDone()
    assert decoded(b"f\x00\x00\x00\x08oops\x00") == msg.CopyFail("oops")


def _bind_body(after_formats: bytes) -> bytes:
    """A Bind of the unnamed portal and statement with no parameter formats, then these bytes
    (parameter count, values, result formats)."""
    body = b"\x00\x00\x00\x00" + after_formats
    return b"B" + struct.pack("!i", len(body) + 4) + body


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (b"z\x00\x00\x00\x04", "invalid frontend message type 122"),
        (b"S\x00\x00\x00\x05x", "invalid message format"),
        (b"Q\x00\x00\x00\x07abc", "invalid string in message"),
        (b"B\x00\x00\x00\x0ap\x00s\x00\x00\x01", "insufficient data left in message"),
        # Binds: no statement name's end, a value longer than the message, a negative length
        # other than NULL's -1, a count of result formats beyond the end, bytes after the end.
        (b"B\x00\x00\x00\x07p\x00s", "invalid string in message"),
        (_bind_body(b"\x00\x01" + struct.pack("!i", 9) + b"ab"), "insufficient data left"),
        (_bind_body(b"\x00\x01" + struct.pack("!i", -2) + b"ab"), "insufficient data left"),
        (_bind_body(b"\x00\x00\x00\x02"), "insufficient data left in message"),
        (_bind_body(b"\x00\x00\x00\x00x"), "invalid message format"),
    ],
)
def test_malformed_messages_are_protocol_violations(wire: bytes, message: str) -> None:
    with pytest.raises(ProtocolViolation, match=message):
        decoded(wire)


def test_bad_describe_subtype_is_a_recoverable_error() -> None:
    with pytest.raises(ProtocolError, match="invalid DESCRIBE message subtype 88") as caught:
        decoded(b"D\x00\x00\x00\x07Xs\x00")
    assert caught.value.severity == "ERROR" and caught.value.sqlstate == "08P01"


def test_startup_packets_are_decoded() -> None:
    assert msg.decode_startup_packet(struct.pack("!i", 80877103)) == msg.SSLRequest()
    assert msg.decode_startup_packet(struct.pack("!i", 80877104)) == msg.GSSENCRequest()
    cancel = struct.pack("!iii", 80877102, 42, -9)
    assert msg.decode_startup_packet(cancel) == msg.CancelRequest(42, -9)
    startup = struct.pack("!i", 3 << 16 | 2) + cstring("user") + cstring("u") + b"\0"
    assert msg.decode_startup_packet(startup) == msg.StartupMessage(3, 2, {"user": "u"})


def test_startup_parameters_need_their_terminator() -> None:
    with pytest.raises(ProtocolViolation):
        msg.decode_startup_packet(struct.pack("!i", 196608) + cstring("user") + cstring("u"))


def test_long_and_null_fields_carry_their_length() -> None:
    columns = [ColumnDesc("t", TEXT), ColumnDesc("u", TEXT)]
    encoders = result_encoders(columns, [TEXT_FORMAT, TEXT_FORMAT])
    long_text = "é" * 200  # 400 bytes: past the lengths made in advance
    body = b"\x00\x02" + struct.pack("!i", 400) + long_text.encode() + struct.pack("!i", -1)
    expected = b"D" + struct.pack("!i", len(body) + 4) + body
    assert written(lambda b: msg.write_data_rows(b, [(long_text, None)], encoders)) == expected
