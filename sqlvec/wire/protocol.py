"""One client connection: the v3 protocol state machine between the socket and a QueryHandler.

Replies are collected in a buffer and written at the points where a client waits for them
(ReadyForQuery, Flush, PortalSuspended, ErrorResponse) or when the buffer grows large: clients
pipeline many messages before reading, so writing per message would cost a syscall each.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import suppress

from sqlvec.errors import (
    FeatureNotSupported,
    InternalError,
    ProtocolViolation,
    SqlvecError,
)
from sqlvec.wire import messages as msg
from sqlvec.wire.bind import decode_parameters, result_formats
from sqlvec.wire.buffer import DEFAULT_MAX_MESSAGE_LENGTH, FrameReader, WriteBuffer
from sqlvec.wire.codecs import TEXT_FORMAT, result_encoders
from sqlvec.wire.copy import run_copy
from sqlvec.wire.handler import ColumnDesc, QueryHandler, QueryResult, Row
from sqlvec.wire.listener import ConnectionProtocol
from sqlvec.wire.pipelined import answer_pipelined
from sqlvec.wire.startup import CancelCallback, receive_startup_message, session_parameters

_log = logging.getLogger("sqlvec.wire")

_ROWS_PER_CHUNK = 512  # DataRows encoded per step between flushes of a big result
_FLUSH_THRESHOLD = 256 * 1024
# Messages that PostgreSQL answers with ReadyForQuery even when they fail.
_READY_AFTER_ERROR = frozenset(b"QSF")


async def serve_connection(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    handler: QueryHandler,
    *,
    cancel_callback: CancelCallback | None = None,
    max_message_length: int = DEFAULT_MAX_MESSAGE_LENGTH,
) -> None:
    """Serve one client until it terminates or disconnects, then close the socket.

    Never raises except for cancellation: client errors are answered on the wire, and
    anything unexpected is logged.
    """
    connection = _Connection(reader, writer, handler, max_message_length)
    try:
        await connection.run(cancel_callback)
    except ProtocolViolation as exc:
        await connection.send_fatal(exc)
    except ConnectionError:
        pass  # the client went away; nobody is left to tell
    except Exception:
        _log.exception("connection failed")
    finally:
        await _close(writer)


class _Connection:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        handler: QueryHandler,
        max_message_length: int,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._handler = handler
        self._frames = FrameReader(reader, max_message_length)
        self._out = WriteBuffer()
        # After an error in an extended-protocol message everything up to Sync is discarded.
        self._skipping_to_sync = False
        # Waiting for a message with nothing buffered: a read may be answered inline.
        self._parked = False
        # The Bind the task reads next was tried in one step inline and declined: not again.
        self._declined_inline = False

    async def run(self, cancel_callback: CancelCallback | None) -> None:
        startup = await receive_startup_message(self._reader, self._writer, cancel_callback)
        if startup is None:
            return
        # Any error before the first ReadyForQuery ends the connection, so it is FATAL.
        try:
            self._start_session(session_parameters(startup, self._out))
        except ProtocolViolation:
            raise
        except SqlvecError as exc:
            await self.send_fatal(exc)
            return
        except Exception as exc:
            await self.send_fatal(_internal_error(exc))
            return
        # The handler hears terminate() only for a session it accepted.
        try:
            await self._flush()
            await self._serve_messages()
        finally:
            self._handler.terminate()

    async def send_fatal(self, error: SqlvecError) -> None:
        msg.write_error_response(self._out, error, severity="FATAL")
        with suppress(ConnectionError):
            await self._flush()

    def _start_session(self, params: dict[str, str]) -> None:
        statuses = self._handler.startup(params)
        msg.write_authentication_ok(self._out)
        for name, value in statuses.items():
            msg.write_parameter_status(self._out, name, value)
        msg.write_backend_key_data(self._out, *self._handler.backend_key)
        msg.write_ready_for_query(self._out, self._handler.transaction_status)

    async def _serve_messages(self) -> None:
        protocol = self._writer.transport.get_protocol()
        # Another listener's connection (asyncio.start_server): every read goes to the task.
        inline = protocol if isinstance(protocol, ConnectionProtocol) else None
        if inline is not None:
            inline.answer_inline = self._answer_inline
        try:
            await self._serve_frames()
        finally:
            if inline is not None:
                inline.answer_inline = None

    async def _serve_frames(self) -> None:
        frames = self._frames
        while (frame := frames.buffered() or await self._next_message()) is not None:
            type_byte, body = frame
            # Sync ends the skipping; Terminate is honoured even then, as PostgreSQL does.
            if self._skipping_to_sync and type_byte not in (b"S", b"X"):
                continue
            if type_byte == b"B" and self._one_step(body):
                await self._flush()
                continue
            if not await self._process(type_byte, body):
                return

    def _one_step(self, bind_body: bytes) -> bool:
        if self._declined_inline:
            self._declined_inline = False
            return False
        return self._answered_pipelined(bind_body)

    async def _next_message(self) -> tuple[bytes, bytes] | None:
        """The next message, read from the socket: while waiting with nothing buffered, reads
        go to `_answer_inline` first."""
        self._parked = self._frames.empty()
        try:
            return await self._frames.message()
        finally:
            self._parked = False

    def _answer_inline(self, data: bytes) -> bytes:
        """A read that arrived while parked, answered here in the transport's callback when
        it starts with a prepared query answered in one step (`pipelined`): the task is not
        woken for it. Returns what is left for the stream, which does wake the task."""
        rest = self._inline_rest(data) if self._parked else data
        if rest:
            self._parked = False
        return rest

    def _inline_rest(self, data: bytes) -> bytes:
        # Declined where replies wait in the buffer (they go first) or the socket has not
        # taken the last ones (only the task may wait for it to drain).
        transport = self._writer.transport
        if self._skipping_to_sync or len(self._out) or transport.is_closing():
            return data
        if transport.get_write_buffer_size():
            return data
        frames = self._frames.holding(data)
        try:
            frame = frames.buffered()
        except ProtocolViolation:
            return data  # the task reads it again and ends the connection, as always
        if frame is None or frame[0] != b"B":
            return data
        if not self._answered_pipelined(frame[1], frames):
            self._declined_inline = True  # the task takes it the usual way, not tried twice
            return data
        self._writer.write(self._out.take())
        return frames.rest()

    def _answered_pipelined(self, bind_body: bytes, frames: FrameReader | None = None) -> bool:
        """A Bind with its Describe, Execute and Sync answered in one step (see pipelined)."""
        try:
            return answer_pipelined(bind_body, frames or self._frames, self._handler, self._out)
        except Exception:
            return False  # the usual way runs it again and reports the error as always

    async def _process(self, type_byte: bytes, body: bytes) -> bool:
        """Handle one message; False when the client asked to terminate."""
        try:
            message = msg.decode_frontend_message(type_byte, body)
            if isinstance(message, msg.Terminate):
                return False
            await self._dispatch(message)
        except (ProtocolViolation, ConnectionError):
            raise  # both end the connection: see serve_connection
        except SqlvecError as exc:
            await self._fail(exc, type_byte)
        except Exception as exc:
            await self._fail(_internal_error(exc), type_byte)
        return True

    async def _fail(self, error: SqlvecError, type_byte: bytes) -> None:
        msg.write_error_response(self._out, error)
        self._handler.error_occurred()
        if type_byte[0] in msg.EXTENDED_QUERY_TYPES:
            self._skipping_to_sync = True
        elif type_byte[0] in _READY_AFTER_ERROR:
            msg.write_ready_for_query(self._out, self._handler.transaction_status)
        # Sent at once, as PostgreSQL does: a client that sent Flush (not Sync) waits for it.
        await self._flush()

    async def _dispatch(self, message: msg.FrontendMessage) -> None:
        match message:  # the messages of a prepared query first: they are most of them
            case msg.Bind():
                self._bind(message)
            case msg.Execute(portal=portal, max_rows=max_rows):
                await self._execute(portal, max_rows)
            case msg.Sync():
                await self._sync()
            case msg.Describe(kind="P", name=name):
                self._describe_portal(name)
            case msg.Describe(kind="S", name=name):
                self._describe_statement(name)
            case msg.Query(sql=sql):
                await self._simple_query(sql)
            case msg.Parse(name=name, sql=sql, param_oids=param_oids):
                await self._handler.parse(name, sql, param_oids)
                msg.write_parse_complete(self._out)
            case msg.Close(kind="S", name=name):
                self._handler.close_statement(name)
                msg.write_close_complete(self._out)
            case msg.Close(kind="P", name=name):
                self._handler.close_portal(name)
                msg.write_close_complete(self._out)
            case msg.Flush():
                await self._flush()
            case msg.FunctionCall():
                raise FeatureNotSupported("fast-path function calls are not supported")
            case msg.CopyData() | msg.CopyDone() | msg.CopyFail():
                # Outside COPY these are ignored, as PostgreSQL does: they are the tail of a
                # COPY that failed while the client was still sending.
                pass

    # --- simple query ------------------------------------------------------------------------

    async def _simple_query(self, sql: str) -> None:
        results = self._handler.simple_query(sql)
        try:
            async for result in results:
                await self._write_simple_result(result)
        finally:
            # Stops the remaining statements when writing a result failed part-way.
            await _close_iterator(results)
        msg.write_ready_for_query(self._out, self._handler.transaction_status)
        await self._flush()

    async def _write_simple_result(self, result: QueryResult) -> None:
        if result.copy is not None:
            result = await self._copy(result)
        columns = result.columns
        formats = [TEXT_FORMAT] * len(columns) if columns is not None else []
        if columns is not None:
            msg.write_row_description(self._out, columns, formats)
        if result.rows:
            assert columns is not None, "a result with rows needs columns"
            await self._write_rows(result.rows, columns, formats)
        await self._write_completion(result)

    # --- extended query ----------------------------------------------------------------------

    def _bind(self, bind: msg.Bind) -> None:
        statement = self._handler.describe_statement(bind.statement)
        params = decode_parameters(bind, statement.param_types)
        formats = result_formats(bind, statement)
        self._handler.bind(bind.portal, bind.statement, params, formats)
        msg.write_bind_complete(self._out)

    def _describe_statement(self, name: str) -> None:
        statement = self._handler.describe_statement(name)
        msg.write_parameter_description(self._out, [t.oid for t in statement.param_types])
        msg.write_description(self._out, statement.columns, None)

    def _describe_portal(self, name: str) -> None:
        columns = self._handler.describe_portal(name)
        formats = self._handler.portal_result_formats(name) if columns is not None else None
        msg.write_description(self._out, columns, formats)

    async def _execute(self, portal: str, max_rows: int) -> None:
        result = await self._handler.execute(portal, max_rows)
        if result.copy is not None:
            result = await self._copy(result)
        if result.rows:
            columns = result.columns
            if columns is None:
                columns = self._handler.describe_portal(portal)
            assert columns is not None, "a result with rows needs columns"
            formats = self._handler.portal_result_formats(portal)
            await self._write_rows(result.rows, columns, formats)
        await self._write_completion(result)

    async def _sync(self) -> None:
        self._skipping_to_sync = False
        try:
            await self._handler.sync()
        except SqlvecError as error:  # the implicit transaction's commit failed
            msg.write_error_response(self._out, error)
        msg.write_ready_for_query(self._out, self._handler.transaction_status)
        await self._flush()

    # --- COPY --------------------------------------------------------------------------------

    async def _copy(self, result: QueryResult) -> QueryResult:
        """Run a COPY's sub-protocol (see wire.copy); what is left to send is its completion."""
        assert result.copy is not None
        tag = await run_copy(result.copy, self._frames, self._out, self._flush)
        return QueryResult(tag, notices=result.notices)

    # --- results -----------------------------------------------------------------------------

    async def _write_rows(
        self, rows: Sequence[Row], columns: Sequence[ColumnDesc], formats: Sequence[int]
    ) -> None:
        out = self._out
        encoders = result_encoders(columns, formats)
        for start in range(0, len(rows), _ROWS_PER_CHUNK):
            msg.write_data_rows(out, rows[start : start + _ROWS_PER_CHUNK], encoders)
            if len(out) >= _FLUSH_THRESHOLD:
                await self._flush()

    async def _write_completion(self, result: QueryResult) -> None:
        """What follows a statement's rows: notices, then how the statement ended."""
        for notice in result.notices:
            msg.write_notice_response(self._out, notice)
        if result.empty_query:
            msg.write_empty_query_response(self._out)
        elif result.tag is None:
            msg.write_portal_suspended(self._out)
            await self._flush()
        else:
            msg.write_command_complete(self._out, result.tag)
        for name, value in result.parameter_status.items():
            msg.write_parameter_status(self._out, name, value)

    async def _flush(self) -> None:
        if len(self._out):
            self._writer.write(self._out.take())
            await self._writer.drain()


def _internal_error(exc: Exception) -> InternalError:
    _log.error("unexpected error while serving a client", exc_info=exc)
    return InternalError(f"internal error: {type(exc).__name__}: {exc}")


async def _close_iterator(iterator: AsyncIterator[QueryResult]) -> None:
    # The handler contract promises an AsyncIterator; async generators also have aclose().
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    # On shutdown the server cancels connection tasks: a cancelled wait for the socket to close
    # is the expected end of that task, not an error to log.
    with suppress(ConnectionError, asyncio.CancelledError):
        await writer.wait_closed()
