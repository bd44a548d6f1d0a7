"""Real drivers (psycopg 3 through libpq, asyncpg) against serve_connection and the fake handler."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Iterator

import asyncpg
import numpy as np
import psycopg
import pytest
from psycopg import errors as pg_errors
from psycopg.adapt import Dumper
from psycopg.pq import Format, TransactionStatus
from psycopg.types import TypeInfo
from wire_fakes import BACKEND_KEY, FakeServer

from sqlvec.types import INT2_ARRAY, INT8_ARRAY, VECTOR_ARRAY, VECTOR_ARRAY_OID, VECTOR_OID


@pytest.fixture
def conn(server: FakeServer) -> Iterator[psycopg.Connection]:
    with psycopg.connect(f"host=127.0.0.1 port={server.port} user=x dbname=y") as connection:
        yield connection


def test_psycopg_connects_through_ssl_refusal(server: FakeServer, conn: psycopg.Connection) -> None:
    assert conn.info.server_version == 160004
    assert conn.info.backend_pid == BACKEND_KEY[0]
    assert conn.info.parameter_status("client_encoding") == "UTF8"
    assert server.handlers[0].startup_params["user"] == "x"
    assert server.handlers[0].startup_params["database"] == "y"


def test_psycopg_simple_protocol_in_a_transaction(conn: psycopg.Connection) -> None:
    # Without parameters psycopg uses the simple protocol, after its own BEGIN.
    cur = conn.execute("select * from items")
    assert conn.info.transaction_status == TransactionStatus.INTRANS
    assert cur.fetchall() == [
        (1, "[1,2,3]", 0.5),
        (2, "[4,5,6]", 1e20),
        (3, "[-1.5,0,1e-07]", None),
    ]
    assert [column.name for column in cur.description or []] == ["id", "embedding", "score"]
    conn.commit()
    assert conn.info.transaction_status == TransactionStatus.IDLE


def test_psycopg_multiple_statements_give_multiple_results(conn: psycopg.Connection) -> None:
    cur = conn.execute("select 1; select 2")
    assert cur.fetchone() == (1,)
    assert cur.nextset()
    assert cur.fetchone() == (2,)


def test_psycopg_extended_protocol_with_parameters(conn: psycopg.Connection) -> None:
    cur = conn.execute("select %s::int8, %s::vector, %s::text", (5, "[1,2]", None))
    assert cur.fetchone() == (5, "[1,2]", None)


@pytest.mark.parametrize("placeholder", ["%s", "%b"])
def test_psycopg_sends_lists_as_array_parameters(
    server: FakeServer, conn: psycopg.Connection, placeholder: str
) -> None:
    handler = server.handlers[0]
    # psycopg types a list of ints by its largest element (int2[] here), as text for %s and
    # as array_send's binary form for %b; the statement keeps the type the client declared.
    cur = conn.execute(f"select {placeholder}::int8[]", ([1, 2, 3],))
    assert cur.fetchone() == ([1, 2, 3],)
    assert handler.bound_params[-1] == [[1, 2, 3]]
    assert handler.statements[""].param_types == [INT2_ARRAY]

    cur = conn.execute(f"select {placeholder}::int8[]", ([1, None, 2**40],))
    assert cur.fetchone() == ([1, None, 2**40],)
    assert handler.statements[""].param_types == [INT8_ARRAY]

    cur = conn.execute(f"select {placeholder}::int8[]", ([[1, 2], [3, 4]],))
    assert cur.fetchone() == ([[1, 2], [3, 4]],)


def test_psycopg_untyped_list_takes_the_parameter_type_the_server_reports(
    server: FakeServer, conn: psycopg.Connection
) -> None:
    # A list of strings goes out as text with OID 0: the fake reports int8[] and decodes it so.
    cur = conn.execute("select %s::int8[]", (["1", "2", None],))
    assert cur.fetchone() == ([1, 2, None],)
    assert server.handlers[0].statements[""].param_types == [INT8_ARRAY]
    assert server.handlers[0].bound_params[-1] == [[1, 2, None]]


def test_psycopg_binary_cursor_receives_binary_arrays(conn: psycopg.Connection) -> None:
    cur = conn.cursor(binary=True)
    cur.execute("select %b::int8[], %b::text[]", ([5, None, -7], ["a b", None, 'q"']))
    assert cur.fetchone() == ([5, None, -7], ["a b", None, 'q"'])
    assert cur.pgresult is not None and cur.pgresult.fformat(0) == 1


class _VectorTextDumper(Dumper):
    oid = VECTOR_OID

    def dump(self, obj: np.ndarray) -> bytes:
        return ("[" + ",".join(map(str, obj.tolist())) + "]").encode()


class _VectorBinaryDumper(Dumper):
    format = Format.BINARY
    oid = VECTOR_OID

    def dump(self, obj: np.ndarray) -> bytes:
        return struct.pack(f"!hh{len(obj)}f", len(obj), 0, *obj.tolist())


@pytest.mark.parametrize("placeholder", ["%t", "%b"])
def test_psycopg_sends_vector_batches_as_vector_arrays(
    server: FakeServer, conn: psycopg.Connection, placeholder: str
) -> None:
    # What pgvector's psycopg adapter sets up: the vector type by OID, dumpers for numpy arrays.
    TypeInfo("vector", VECTOR_OID, VECTOR_ARRAY_OID).register(conn)
    conn.adapters.register_dumper(np.ndarray, _VectorTextDumper)
    conn.adapters.register_dumper(np.ndarray, _VectorBinaryDumper)
    batch = [np.array([1, 2.5], dtype=np.float32), np.array([-3], dtype=np.float32)]
    cur = conn.execute(f"select {placeholder}::vector[]", (batch,))
    assert cur.fetchone() == (["[1,2.5]", "[-3]"],)  # no vector loader: elements as text
    handler = server.handlers[0]
    assert handler.statements[""].param_types == [VECTOR_ARRAY]
    (decoded,) = handler.bound_params[-1]
    assert [v.dtype for v in decoded] == [np.float32, np.float32]
    assert [v.tolist() for v in decoded] == [[1.0, 2.5], [-3.0]]


def test_psycopg_array_parameter_errors_carry_sqlstate(conn: psycopg.Connection) -> None:
    conn.autocommit = True
    with pytest.raises(pg_errors.InvalidTextRepresentation, match="malformed array literal"):
        conn.execute("select %s::int8[]", ("{1,,2}",))
    assert conn.execute("select %b::int8[]", ([8],)).fetchone() == ([8],)


def test_psycopg_prepared_statement_is_reused(server: FakeServer, conn: psycopg.Connection) -> None:
    for value in range(3):
        cur = conn.execute("select %s::int8", (value,), prepare=True)
        assert cur.fetchone() == (value,)
    assert len(server.handlers[0].statements) == 1  # one named statement, bound three times


def test_psycopg_binary_cursor_gets_binary_results(conn: psycopg.Connection) -> None:
    cur = conn.cursor(binary=True)
    cur.execute("select * from items")
    rows = cur.fetchall()
    # psycopg has loaders for int8 and float8; the vector OID it returns as raw bytes.
    assert [(row[0], row[2]) for row in rows] == [(1, 0.5), (2, 1e20), (3, None)]
    assert rows[0][1] == struct.pack("!hh3f", 3, 0, 1, 2, 3)
    assert cur.pgresult is not None and cur.pgresult.fformat(1) == 1


def test_psycopg_errors_carry_sqlstate_and_the_transaction_fails(
    conn: psycopg.Connection,
) -> None:
    with pytest.raises(pg_errors.SyntaxError) as caught:
        conn.execute("oops")
    assert caught.value.diag.message_primary == 'syntax error at or near "oops"'
    assert conn.info.transaction_status == TransactionStatus.INERROR
    with pytest.raises(pg_errors.InFailedSqlTransaction):
        conn.execute("select 1")
    conn.rollback()
    assert conn.execute("select 4").fetchone() == (4,)


def test_psycopg_parameter_errors_keep_the_connection(conn: psycopg.Connection) -> None:
    conn.autocommit = True
    with pytest.raises(pg_errors.DataException, match="NaN not allowed in vector"):
        conn.execute("select %s::vector", ("[1,NaN]",))
    assert conn.execute("select %s::int8", (8,)).fetchone() == (8,)


def test_psycopg_receives_notices(conn: psycopg.Connection) -> None:
    notices: list[str] = []
    conn.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
    conn.execute("select notice")
    assert notices == ["just so you know"]


def test_asyncpg_describes_with_flush_and_uses_binary(server: FakeServer) -> None:
    async def run() -> tuple[object, object]:
        connection = await asyncpg.connect(host="127.0.0.1", port=server.port, user="x")
        try:
            number = await connection.fetchval("select $1::int8", 41)
            text = await connection.fetchval("select $1::text", "hé")
            return number, text
        finally:
            await connection.close()

    assert asyncio.run(run()) == (41, "hé")
    handler = server.handlers[0]
    assert handler.startup_params["client_encoding"] == "'utf-8'"
    assert handler.bound_params == [[41], ["hé"]]
    assert handler.terminated


def test_psycopg_requiring_ssl_is_told_there_is_none(server: FakeServer) -> None:
    with pytest.raises(psycopg.OperationalError, match="server does not support SSL"):
        psycopg.connect(f"host=127.0.0.1 port={server.port} user=x dbname=y sslmode=require")
