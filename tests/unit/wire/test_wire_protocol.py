"""serve_connection over a real 127.0.0.1 socket, driven by raw protocol bytes."""

from __future__ import annotations

import socket
import struct

import numpy as np
from wire_fakes import (
    BACKEND_KEY,
    FLUSH,
    SYNC,
    TERMINATE,
    FakeServer,
    RawClient,
    bind,
    cstring,
    data_row,
    describe,
    execute,
    fields,
    message,
    parse,
    query,
    row_description,
    startup_packet,
    types,
)

SSL_REQUEST = struct.pack("!ii", 8, 80877103)
GSSENC_REQUEST = struct.pack("!ii", 8, 80877104)
VECTOR_OID = 16385


def vector_binary(*values: float) -> bytes:
    return struct.pack(f"!hh{len(values)}f", len(values), 0, *values)


# --- startup ---------------------------------------------------------------------------------


def test_encryption_requests_are_refused_and_startup_continues(
    server: FakeServer, client: RawClient
) -> None:
    client.send(GSSENC_REQUEST)
    assert client.receive_exactly(1) == b"N"
    client.send(SSL_REQUEST)
    assert client.receive_exactly(1) == b"N"
    params = {"user": "alice", "database": "db", "client_encoding": "'utf-8'"}
    replies = client.connect(params)

    assert replies[0] == (b"R", b"\x00\x00\x00\x00")  # AuthenticationOk
    statuses = dict(fields_of_status(body) for kind, body in replies if kind == b"S")
    assert statuses["server_version"] == "16.4"
    assert statuses["client_encoding"] == "UTF8"
    assert (b"K", struct.pack("!ii", *BACKEND_KEY)) in replies
    assert replies[-1] == (b"Z", b"I")
    assert server.handlers[0].startup_params == params  # passed on as sent


def fields_of_status(body: bytes) -> tuple[str, str]:
    name, value, _ = body.split(b"\0")
    return name.decode(), value.decode()


def test_cancel_request_is_passed_on_and_closed_without_reply(
    server: FakeServer, client: RawClient
) -> None:
    client.send(struct.pack("!iiii", 16, 80877102, 4242, 987654321))
    assert client.is_closed()
    assert server.cancels == [(4242, 987654321)]


def test_newer_minor_version_and_protocol_options_are_negotiated(
    server: FakeServer, client: RawClient
) -> None:
    params = {"user": "u", "_pq_.greased": "1", "database": "d"}
    client.send(startup_packet(params, version=3 << 16 | 9999))
    negotiated = client.receive()
    assert negotiated == (b"v", struct.pack("!ii", 0, 1) + cstring("_pq_.greased"))
    assert types(client.receive_until_ready())[-1:] == b"Z"
    assert server.handlers[0].startup_params == {"user": "u", "database": "d"}


def test_protocol_2_is_refused_with_a_fatal_error(client: RawClient) -> None:
    client.send(startup_packet({"user": "u"}, version=2 << 16))
    kind, body = client.receive()
    assert kind == b"E"
    assert fields(body)["S"] == "FATAL"
    assert fields(body)["C"] == "08P01"
    assert "unsupported frontend protocol 2.0" in fields(body)["M"]
    assert client.is_closed()


def test_oversized_startup_packet_is_refused(client: RawClient) -> None:
    client.send(struct.pack("!i", 10_001))
    kind, body = client.receive()
    assert (kind, fields(body)["M"]) == (b"E", "invalid length of startup packet")
    assert client.is_closed()


# --- simple query ----------------------------------------------------------------------------


def test_simple_query_with_two_statements(client: RawClient) -> None:
    client.connect()
    client.send(query("select 7; select * from items"))
    replies = client.receive_until_ready()

    assert types(replies) == b"TDCTDDDCZ"
    assert row_description(replies[0][1]) == [("?column?", 23, -1, 0)]
    assert data_row(replies[1][1]) == [b"7"]
    assert replies[2] == (b"C", cstring("SELECT 1"))
    assert row_description(replies[3][1]) == [
        ("id", 20, -1, 0),
        ("embedding", VECTOR_OID, 3, 0),
        ("score", 701, -1, 0),
    ]
    assert [data_row(body) for _, body in replies[4:7]] == [
        [b"1", b"[1,2,3]", b"0.5"],
        [b"2", b"[4,5,6]", b"1e+20"],
        [b"3", b"[-1.5,0,1e-07]", None],
    ]
    assert replies[7] == (b"C", cstring("SELECT 3"))
    assert replies[8] == (b"Z", b"I")


def test_an_error_stops_the_query_string_and_the_next_query_works(client: RawClient) -> None:
    client.connect()
    client.send(query("select 1; oops; select 2"))
    replies = client.receive_until_ready()
    assert types(replies) == b"TDCEZ"  # nothing after the failing statement
    error = fields(replies[3][1])
    assert (error["S"], error["C"], error["P"]) == ("ERROR", "42601", "1")
    assert error["M"] == 'syntax error at or near "oops"'

    client.send(query("select 2"))
    replies = client.receive_until_ready()
    assert types(replies) == b"TDCZ"
    assert data_row(replies[1][1]) == [b"2"]


def test_empty_query_gets_empty_query_response(client: RawClient) -> None:
    client.connect()
    client.send(query("  "))
    assert types(client.receive_until_ready()) == b"IZ"


def test_notices_precede_command_complete_and_parameter_status_follows(
    client: RawClient,
) -> None:
    client.connect()
    client.send(query("select notice; set application_name = 'app'"))
    replies = client.receive_until_ready()
    assert types(replies) == b"NCCSZ"
    notice = fields(replies[0][1])
    assert (notice["S"], notice["M"], notice["D"]) == ("NOTICE", "just so you know", "a detail")
    assert replies[3] == (b"S", cstring("application_name") + cstring("app"))


def test_ready_for_query_reports_the_transaction_status(client: RawClient) -> None:
    client.connect()
    client.send(query("begin"))
    assert client.receive_until_ready()[-1] == (b"Z", b"T")
    client.send(query("oops"))
    assert client.receive_until_ready()[-1] == (b"Z", b"E")
    client.send(query("select 1"))
    replies = client.receive_until_ready()
    assert fields(replies[0][1])["C"] == "25P02"
    assert replies[-1] == (b"Z", b"E")
    client.send(query("commit"))
    assert client.receive_until_ready() == [(b"C", cstring("ROLLBACK")), (b"Z", b"I")]


def test_unexpected_exception_is_an_internal_error_and_the_connection_survives(
    client: RawClient,
) -> None:
    client.connect()
    client.send(query("boom"))
    replies = client.receive_until_ready()
    error = fields(replies[0][1])
    assert (error["C"], error["M"]) == ("XX000", "internal error: RuntimeError: the fake exploded")
    client.send(query("select 3"))
    assert types(client.receive_until_ready()) == b"TDCZ"


def test_a_row_that_cannot_be_encoded_fails_the_rest_of_the_query(client: RawClient) -> None:
    client.connect()
    client.send(query("select broken; select 1"))
    replies = client.receive_until_ready()
    assert types(replies) == b"TDEZ"  # as PostgreSQL, rows sent before the error stay sent
    error = fields(replies[2][1])
    assert error["C"] == "XX000"
    assert error["M"].startswith("internal error: TypeError:")
    client.send(query("select 1"))
    assert types(client.receive_until_ready()) == b"TDCZ"


def test_copy_messages_outside_copy_are_ignored(client: RawClient) -> None:
    client.connect()
    client.send(message(b"d", b"1\t2\n"), message(b"c"), query("select 1"))
    assert types(client.receive_until_ready()) == b"TDCZ"


# --- extended query --------------------------------------------------------------------------


def test_pipelined_extended_query_with_row_limit_and_portal_suspended(
    client: RawClient,
) -> None:
    client.connect()
    client.send(
        parse("s", "select * from items"),
        describe(b"S", "s"),
        bind("p", "s", result_formats=(0, 1, 0)),
        describe(b"P", "p"),
        execute("p", 2),
        execute("p", 2),
        SYNC,
    )
    replies = client.receive_until_ready()

    assert types(replies) == b"1tT2TDDsDCZ"
    assert replies[1] == (b"t", b"\x00\x00")  # no parameters
    assert [column[3] for column in row_description(replies[2][1])] == [0, 0, 0]
    assert [column[3] for column in row_description(replies[4][1])] == [0, 1, 0]
    first = data_row(replies[5][1])
    assert first[0] == b"1"
    assert first[1] == vector_binary(1, 2, 3)
    assert data_row(replies[8][1])[0] == b"3"
    assert replies[9] == (b"C", cstring("SELECT 1"))


def test_binary_results_for_int8_vector_and_float8(client: RawClient) -> None:
    client.connect()
    client.send(parse("", "select * from items"), bind("", "", result_formats=(1,)))
    client.send(execute("", 1), SYNC)
    replies = client.receive_until_ready()
    assert types(replies) == b"12DsZ"
    identifier, vector, score = data_row(replies[2][1])
    assert identifier == struct.pack("!q", 1)
    assert vector == vector_binary(1, 2, 3)
    assert score == struct.pack("!d", 0.5)


def test_binary_and_text_parameters_are_decoded_by_the_statement_types(
    server: FakeServer, client: RawClient
) -> None:
    client.connect()
    client.send(
        parse("", "select $1::int8, $2::vector, $3::text", (20, 0, 0)),
        bind(
            "",
            "",
            (struct.pack("!q", -5), vector_binary(0.5, 2), None),
            param_formats=(1, 1, 0),
        ),
        execute(""),
        SYNC,
    )
    replies = client.receive_until_ready()
    assert types(replies) == b"12DCZ"
    assert data_row(replies[2][1]) == [b"-5", b"[0.5,2]", None]
    value, vector, null = server.handlers[0].bound_params[0]
    assert value == -5
    np.testing.assert_array_equal(vector, [0.5, 2])
    assert null is None


def test_describe_statement_reports_parameter_types(client: RawClient) -> None:
    client.connect()
    client.send(parse("s", "select $1::int8, $2::vector"), describe(b"S", "s"), SYNC)
    replies = client.receive_until_ready()
    assert types(replies) == b"1tTZ"
    assert replies[1] == (b"t", struct.pack("!hII", 2, 20, VECTOR_OID))


def test_statement_without_rows_describes_as_no_data(client: RawClient) -> None:
    client.connect()
    client.send(parse("", "begin"), describe(b"S", ""), bind("", ""), describe(b"P", ""))
    client.send(execute(""), SYNC)
    assert types(client.receive_until_ready()) == b"1tn2nCZ"


def test_after_an_error_messages_are_discarded_until_sync(
    server: FakeServer, client: RawClient
) -> None:
    client.connect()
    client.send(
        parse("s1", "select 1"),
        bind("", "missing"),
        parse("s2", "select 2"),  # discarded: must not be created
        execute(""),
        FLUSH,
        SYNC,
        query("select 5"),
    )
    replies = client.receive_until_ready()
    assert types(replies) == b"1EZ"
    assert fields(replies[1][1])["C"] == "26000"
    assert types(client.receive_until_ready()) == b"TDCZ"
    assert set(server.handlers[0].statements) == {"s1"}


def test_bad_binary_parameter_is_an_error_naming_the_parameter(client: RawClient) -> None:
    client.connect()
    client.send(
        parse("", "select $1::int4, $2::vector", (23, 0)),
        bind("", "", (struct.pack("!i", 1), b"\x00\x03\x00\x00"), param_formats=(1,)),
        SYNC,
    )
    replies = client.receive_until_ready()
    assert types(replies) == b"1EZ"
    error = fields(replies[1][1])
    assert (error["C"], error["M"]) == ("22P03", "incorrect binary data format in bind parameter 2")


def test_text_parameter_with_bad_syntax_reports_pgvector_message(client: RawClient) -> None:
    client.connect()
    client.send(parse("", "select $1::vector"), bind("", "", (b"[1,NaN]",)), SYNC)
    replies = client.receive_until_ready()
    error = fields(replies[1][1])
    assert (error["C"], error["M"]) == ("22000", "NaN not allowed in vector")


def test_unsupported_format_code_is_refused(client: RawClient) -> None:
    client.connect()
    client.send(parse("", "select 1"), bind("", "", result_formats=(2,)), SYNC)
    replies = client.receive_until_ready()
    error = fields(replies[1][1])
    assert (error["C"], error["M"]) == ("22023", "unsupported format code: 2")


def test_flush_sends_replies_without_sync(client: RawClient) -> None:
    client.connect()
    client.send(parse("s", "select $1::int8"), describe(b"S", "s"), FLUSH)
    # No Sync was sent: these arrive only because Flush wrote them out.
    assert [client.receive()[0] for _ in range(3)] == [b"1", b"t", b"T"]
    client.send(bind("p", "s", (b"9",)), execute("p"), FLUSH)
    assert [client.receive()[0] for _ in range(3)] == [b"2", b"D", b"C"]
    client.send(SYNC)
    assert client.receive_until_ready() == [(b"Z", b"I")]


def test_an_error_is_sent_at_once_even_without_sync(client: RawClient) -> None:
    client.connect()
    client.send(parse("", "oops"), FLUSH)
    kind, body = client.receive()
    assert (kind, fields(body)["C"]) == (b"E", "42601")
    client.send(SYNC)
    assert client.receive_until_ready() == [(b"Z", b"I")]


def test_portal_suspended_is_sent_without_sync(client: RawClient) -> None:
    client.connect()
    client.send(query("begin"))
    client.receive_until_ready()
    client.send(parse("", "select * from items"), bind("c", ""), execute("c", 1))
    assert types([client.receive() for _ in range(4)]) == b"12Ds"
    client.send(execute("c", 0), SYNC)
    assert types(client.receive_until_ready()) == b"DDCZ"


def test_close_statement_and_portal(client: RawClient) -> None:
    client.connect()
    client.send(parse("s", "select 1"), bind("p", "s"), message(b"C", b"Pp\0"))
    client.send(message(b"C", b"Ss\0"), describe(b"S", "s"), SYNC)
    replies = client.receive_until_ready()
    assert types(replies) == b"1233EZ"
    assert fields(replies[4][1])["C"] == "26000"


def test_internal_error_in_extended_mode_skips_to_sync(client: RawClient) -> None:
    client.connect()
    client.send(parse("", "boom"), describe(b"S", ""), SYNC, query("select 1"))
    replies = client.receive_until_ready()
    assert types(replies) == b"EZ"
    assert fields(replies[0][1])["C"] == "XX000"
    assert types(client.receive_until_ready()) == b"TDCZ"


# --- ending ----------------------------------------------------------------------------------


def test_terminate_closes_and_tells_the_handler(server: FakeServer, client: RawClient) -> None:
    client.connect()
    client.send(TERMINATE)
    assert client.is_closed()
    assert server.handlers[0].terminated


def test_disconnect_tells_the_handler(server: FakeServer, client: RawClient) -> None:
    client.connect()
    client.sock.shutdown(socket.SHUT_WR)
    assert client.is_closed()
    assert server.handlers[0].terminated


def test_unknown_message_type_is_fatal(server: FakeServer, client: RawClient) -> None:
    client.connect()
    client.send(message(b"z"))
    kind, body = client.receive()
    assert (kind, fields(body)["S"], fields(body)["C"]) == (b"E", "FATAL", "08P01")
    assert client.is_closed()
    assert server.handlers[0].terminated


def test_message_over_the_cap_is_fatal(client: RawClient) -> None:
    client.connect()
    client.send(b"Q" + struct.pack("!i", 2**30))  # the fake server's cap is 1 MiB
    kind, body = client.receive()
    assert (kind, fields(body)["C"]) == (b"E", "08P01")
    assert client.is_closed()
