"""Test doubles for the wire tests: a tiny QueryHandler, a server thread, a raw-bytes client.

The fake handler understands a handful of fixed statements - enough to drive every protocol
path - instead of real SQL. The raw client builds and parses messages with `struct` directly,
independently of the code under test.
"""

from __future__ import annotations

import asyncio
import re
import socket
import struct
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sqlvec.errors import (
    DataException,
    InFailedTransaction,
    InvalidCursorName,
    InvalidSqlStatementName,
    Notice,
    SyntaxError,
)
from sqlvec.types import (
    BY_OID,
    BY_SQL_NAME,
    FLOAT8,
    INT4,
    INT8,
    TEXT,
    VECTOR,
    PgType,
    type_by_oid,
)
from sqlvec.wire.handler import ColumnDesc, QueryResult, Row, StatementDesc, TransactionStatus
from sqlvec.wire.listener import start_listener
from sqlvec.wire.protocol import serve_connection

ITEMS_COLUMNS = [
    ColumnDesc("id", INT8, table_oid=16400, column_number=1),
    ColumnDesc("embedding", VECTOR, typmod=3, table_oid=16400, column_number=2),
    ColumnDesc("score", FLOAT8),
]
ITEMS_ROWS: list[Row] = [
    (1, np.array([1, 2, 3], dtype=np.float32), 0.5),
    (2, np.array([4, 5, 6], dtype=np.float32), np.float64(1e20)),
    (3, np.array([-1.5, 0, 1e-7], dtype=np.float32), None),
]
STARTUP_STATUS = {
    "server_version": "16.4",
    "server_encoding": "UTF8",
    "client_encoding": "UTF8",
    "DateStyle": "ISO, MDY",
    "integer_datetimes": "on",
    "standard_conforming_strings": "on",
    "TimeZone": "Etc/UTC",
}
BACKEND_KEY = (4242, 987654321)
_CAST = re.compile(r"\$(\d+)::(\w+)(\[\])?")


@dataclass
class _Statement:
    """A 'planned' statement of the fake: its shape and how to run it."""

    param_types: list[PgType]
    columns: list[ColumnDesc] | None
    run: Callable[[list[Any]], QueryResult]


@dataclass
class _Portal:
    statement: _Statement
    result_formats: list[int]
    params: list[Any]
    pending: list[Row] | None = None  # rows not yet returned, once executed


@dataclass
class FakeHandler:
    """A QueryHandler that records what it was given."""

    startup_params: dict[str, str] = field(default_factory=dict)
    bound_params: list[list[Any]] = field(default_factory=list)
    status: TransactionStatus = "I"
    terminated: bool = False
    statements: dict[str, _Statement] = field(default_factory=dict)
    portals: dict[str, _Portal] = field(default_factory=dict)

    def startup(self, params: dict[str, str]) -> dict[str, str]:
        self.startup_params = params
        return dict(STARTUP_STATUS)

    @property
    def transaction_status(self) -> TransactionStatus:
        return self.status

    @property
    def backend_key(self) -> tuple[int, int]:
        return BACKEND_KEY

    async def simple_query(self, sql: str) -> AsyncIterator[QueryResult]:
        parts = [part for part in sql.split(";") if part.strip()] or [""]
        for part in parts:
            yield self._plan(part, []).run([])

    async def parse(self, name: str, sql: str, param_oids: list[int]) -> None:
        self.statements[name] = self._plan(sql, param_oids)

    def describe_statement(self, name: str) -> StatementDesc:
        statement = self._statement(name)
        return StatementDesc(statement.param_types, statement.columns)

    def bind(
        self, portal: str, statement: str, params: list[Any], result_formats: list[int]
    ) -> None:
        self.bound_params.append(params)
        self.portals[portal] = _Portal(self._statement(statement), result_formats, params)

    def describe_portal(self, portal: str) -> list[ColumnDesc] | None:
        return self._portal(portal).statement.columns

    def run_pipelined(self, statement: str, params: list[Any]) -> QueryResult | None:
        return None  # every message the usual way: these tests watch each step

    def portal_result_formats(self, portal: str) -> list[int]:
        return self._portal(portal).result_formats

    async def execute(self, portal: str, max_rows: int) -> QueryResult:
        state = self._portal(portal)
        if state.pending is None:
            result = state.statement.run(state.params)
            if result.tag is None or not result.tag.startswith("SELECT"):
                return result
            state.pending = list(result.rows)
        batch_size = max_rows or len(state.pending)
        batch, state.pending = state.pending[:batch_size], state.pending[batch_size:]
        tag = f"SELECT {len(batch)}" if not state.pending else None
        return QueryResult(tag, rows=batch)

    def close_statement(self, name: str) -> None:
        self.statements.pop(name, None)

    def close_portal(self, name: str) -> None:
        self.portals.pop(name, None)

    async def sync(self) -> None:
        if self.status == "I":
            self.portals.clear()  # the implicit transaction ends

    def error_occurred(self) -> None:
        if self.status == "T":
            self.status = "E"

    def terminate(self) -> None:
        self.terminated = True

    def _statement(self, name: str) -> _Statement:
        if name not in self.statements:
            raise InvalidSqlStatementName(f'prepared statement "{name}" does not exist')
        return self.statements[name]

    def _portal(self, name: str) -> _Portal:
        if name not in self.portals:
            raise InvalidCursorName(f'portal "{name}" does not exist')
        return self.portals[name]

    def _plan(self, sql: str, param_oids: list[int]) -> _Statement:
        text = sql.strip().lower()
        if self.status == "E" and text not in ("rollback", "commit"):
            raise InFailedTransaction(
                "current transaction is aborted, commands ignored until end of transaction block"
            )
        if text == "":
            return _Statement([], None, lambda _: QueryResult(None, empty_query=True))
        if text in ("begin", "commit", "rollback"):
            return _Statement([], None, lambda _: self._transaction(text))
        if text == "select * from items":
            return _Statement([], ITEMS_COLUMNS, lambda _: _select(ITEMS_COLUMNS, ITEMS_ROWS))
        if re.fullmatch(r"select -?\d+", text):
            column = [ColumnDesc("?column?", INT4)]
            return _Statement([], column, lambda _: _select(column, [(int(text[7:]),)]))
        if text == "select notice":
            notice = Notice("just so you know", detail="a detail")
            return _Statement([], None, lambda _: QueryResult("SELECT 0", notices=[notice]))
        if text.startswith("set application_name"):
            value = sql.split("=")[1].strip().strip("'")
            change = {"application_name": value}
            return _Statement([], None, lambda _: QueryResult("SET", parameter_status=change))
        if text == "select 1/0":
            return _Statement([], [ColumnDesc("?column?", INT4)], _divide_by_zero)
        if text == "select broken":  # a value its column type cannot encode
            column = [ColumnDesc("n", INT4)]
            return _Statement([], column, lambda _: _select(column, [(1,), ("one",)]))
        if text == "boom":
            raise RuntimeError("the fake exploded")
        if _CAST.search(text):
            return _echo_statement(text, param_oids)
        raise SyntaxError(f'syntax error at or near "{sql.split()[0]}"', position=1)

    def _transaction(self, command: str) -> QueryResult:
        tag = command.upper()
        if command == "commit" and self.status == "E":
            tag = "ROLLBACK"
        self.status = "T" if command == "begin" else "I"
        return QueryResult(tag)


def _select(columns: list[ColumnDesc], rows: list[Row]) -> QueryResult:
    return QueryResult(f"SELECT {len(rows)}", columns=columns, rows=rows)


def _divide_by_zero(_: list[Any]) -> QueryResult:
    raise DataException("division by zero")


def _echo_statement(text: str, param_oids: list[int]) -> _Statement:
    """`select $1::int8, $2::vector[]`: one row echoing the parameters, typed by the casts."""
    casts = _CAST.findall(text)
    cast_types = [_cast_type(type_name, array) for _, type_name, array in casts]
    param_types = [
        type_by_oid(param_oids[i]) if i < len(param_oids) and param_oids[i] else cast_type
        for i, cast_type in enumerate(cast_types)
    ]
    columns = [ColumnDesc(t.name, t) for t in cast_types]
    return _Statement(param_types, columns, lambda params: _select(columns, [tuple(params)]))


def _cast_type(type_name: str, array: str) -> PgType:
    element = BY_SQL_NAME.get(type_name, TEXT)
    return BY_OID[element.array_oid] if array else element


class FakeServer:
    """serve_connection on 127.0.0.1 (the server's listener) in a thread of its own, one
    FakeHandler per connection."""

    def __init__(self) -> None:
        self.handlers: list[FakeHandler] = []
        self.cancels: list[tuple[int, int]] = []
        self._connections: set[asyncio.Task[None]] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server = self._call(start_listener("127.0.0.1", 0, self._serve))
        self.port: int = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = FakeHandler()
        self.handlers.append(handler)
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        await serve_connection(
            reader,
            writer,
            handler,
            cancel_callback=lambda pid, key: self.cancels.append((pid, key)),
            max_message_length=1024 * 1024,
        )

    async def _shutdown(self) -> None:
        self._server.close()
        await self._server.wait_closed()
        for task in self._connections:
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    def close(self) -> None:
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


# --- a raw-bytes client ---------------------------------------------------------------------


def message(type_byte: bytes, body: bytes = b"") -> bytes:
    return type_byte + struct.pack("!i", len(body) + 4) + body


def cstring(text: str) -> bytes:
    return text.encode() + b"\0"


def startup_packet(params: dict[str, str], version: int = 196608) -> bytes:
    body = struct.pack("!i", version)
    body += b"".join(cstring(k) + cstring(v) for k, v in params.items()) + b"\0"
    return struct.pack("!i", len(body) + 4) + body


def query(sql: str) -> bytes:
    return message(b"Q", cstring(sql))


def parse(name: str, sql: str, param_oids: tuple[int, ...] = ()) -> bytes:
    oids = struct.pack(f"!h{len(param_oids)}I", len(param_oids), *param_oids)
    return message(b"P", cstring(name) + cstring(sql) + oids)


def bind(
    portal: str,
    statement: str,
    params: tuple[bytes | None, ...] = (),
    param_formats: tuple[int, ...] = (),
    result_formats: tuple[int, ...] = (),
) -> bytes:
    body = cstring(portal) + cstring(statement)
    body += struct.pack(f"!h{len(param_formats)}h", len(param_formats), *param_formats)
    body += struct.pack("!h", len(params))
    for value in params:
        body += struct.pack("!i", -1) if value is None else struct.pack("!i", len(value)) + value
    body += struct.pack(f"!h{len(result_formats)}h", len(result_formats), *result_formats)
    return message(b"B", body)


def describe(kind: bytes, name: str) -> bytes:
    return message(b"D", kind + cstring(name))


def execute(portal: str, max_rows: int = 0) -> bytes:
    return message(b"E", cstring(portal) + struct.pack("!i", max_rows))


SYNC = message(b"S")
FLUSH = message(b"H")
TERMINATE = message(b"X")


class RawClient:
    """A blocking socket speaking bytes, with just enough parsing to assert on replies."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self._pending = b""

    def send(self, *chunks: bytes) -> None:
        self.sock.sendall(b"".join(chunks))

    def receive_exactly(self, count: int) -> bytes:
        while len(self._pending) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed with {self._pending!r} pending")
            self._pending += chunk
        data, self._pending = self._pending[:count], self._pending[count:]
        return data

    def receive(self) -> tuple[bytes, bytes]:
        type_byte = self.receive_exactly(1)
        (length,) = struct.unpack("!i", self.receive_exactly(4))
        return type_byte, self.receive_exactly(length - 4)

    def receive_until_ready(self) -> list[tuple[bytes, bytes]]:
        replies = [self.receive()]
        while replies[-1][0] != b"Z":
            replies.append(self.receive())
        return replies

    def is_closed(self) -> bool:
        """True when the server closed the connection (and sent nothing more)."""
        return self.sock.recv(1) == b""

    def connect(self, params: dict[str, str] | None = None) -> list[tuple[bytes, bytes]]:
        self.send(startup_packet(params or {"user": "alice", "database": "db"}))
        return self.receive_until_ready()

    def close(self) -> None:
        self.sock.close()


def types(replies: list[tuple[bytes, bytes]]) -> bytes:
    """The message types of a reply sequence, e.g. b'TDDCZ'."""
    return b"".join(type_byte for type_byte, _ in replies)


def fields(body: bytes) -> dict[str, str]:
    """The fields of an ErrorResponse or NoticeResponse body."""
    return {item[:1].decode(): item[1:].decode() for item in body.split(b"\0") if item}


def data_row(body: bytes) -> list[bytes | None]:
    (count,) = struct.unpack_from("!h", body)
    values: list[bytes | None] = []
    offset = 2
    for _ in range(count):
        (length,) = struct.unpack_from("!i", body, offset)
        offset += 4
        if length == -1:
            values.append(None)
        else:
            values.append(body[offset : offset + length])
            offset += length
    return values


def row_description(body: bytes) -> list[tuple[str, int, int, int]]:
    """(name, type oid, typmod, format) per field."""
    (count,) = struct.unpack_from("!h", body)
    described = []
    offset = 2
    for _ in range(count):
        end = body.index(b"\0", offset)
        name = body[offset:end].decode()
        _table, _column, oid, _typlen, typmod, format_code = struct.unpack_from(
            "!IhIhih", body, end + 1
        )
        described.append((name, oid, typmod, format_code))
        offset = end + 1 + 18
    return described
