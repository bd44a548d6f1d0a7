"""The COPY sub-protocol: CopyInResponse / CopyData / CopyDone / CopyFail, CopyOutResponse.

A statement's result may carry a copy stream (`QueryResult.copy`) instead of rows; the
connection then hands the socket to `run_copy` until the COPY is over. COPY FROM STDIN reads the
client's messages in order, so CopyData that the client pipelined before it saw CopyInResponse
(asyncpg does) is simply the next message read. Flush and Sync inside COPY are ignored, as
PostgreSQL does (libpq sends them after an Execute without knowing it started a COPY); any
other message ends the COPY with an error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Protocol, runtime_checkable

from sqlvec.errors import ProtocolError, QueryCanceled
from sqlvec.wire.buffer import FrameReader, MessageReader, WriteBuffer

_FLUSH_THRESHOLD = 256 * 1024
_IGNORED_DURING_COPY_IN = (b"H", b"S")  # Flush, Sync


@runtime_checkable
class CopyInStream(Protocol):
    """COPY FROM STDIN: takes the client's bytes, parses and stores them at CopyDone."""

    binary: bool
    column_count: int

    async def write(self, data: bytes) -> None:
        """One CopyData message's payload; raises SqlvecError for bad data (the COPY ends)."""

    async def finish(self) -> str:
        """CopyDone: store everything (all or nothing); returns the tag, `COPY n`."""

    def abort(self) -> None:
        """The COPY ends without CopyDone (bad data, CopyFail, the client went away)."""


@runtime_checkable
class CopyOutStream(Protocol):
    """COPY TO STDOUT: the payloads of the CopyData messages to send."""

    binary: bool

    async def start(self) -> int:
        """Run the query; returns its column count (for CopyOutResponse)."""

    def batches(self) -> AsyncIterator[Sequence[bytes]]:
        """The CopyData payloads (one row each, as PostgreSQL sends them), in batches."""

    @property
    def tag(self) -> str:
        """`COPY n`, once every batch was taken."""


CopyStream = CopyInStream | CopyOutStream


async def run_copy(
    stream: CopyStream,
    frames: FrameReader,
    out: WriteBuffer,
    flush: Callable[[], Awaitable[None]],
) -> str:
    """Drive one COPY over the connection; returns the CommandComplete tag."""
    if isinstance(stream, CopyInStream):
        return await _copy_in(stream, frames, out, flush)
    return await _copy_out(stream, out, flush)


async def _copy_in(
    stream: CopyInStream,
    frames: FrameReader,
    out: WriteBuffer,
    flush: Callable[[], Awaitable[None]],
) -> str:
    try:
        return await _receive(stream, frames, out, flush)
    except BaseException:
        stream.abort()
        raise


async def _receive(
    stream: CopyInStream,
    frames: FrameReader,
    out: WriteBuffer,
    flush: Callable[[], Awaitable[None]],
) -> str:
    write_copy_response(out, b"G", stream.binary, stream.column_count)
    await flush()
    while True:
        frame = await frames.message()
        if frame is None:
            raise ConnectionError("the client went away during COPY FROM STDIN")
        type_byte, body = frame
        if type_byte == b"d":
            await stream.write(body)
        elif type_byte == b"c":
            return await stream.finish()
        elif type_byte == b"f":
            message = MessageReader(body).cstring()
            raise QueryCanceled(f"COPY from stdin failed: {message}")
        elif type_byte not in _IGNORED_DURING_COPY_IN:
            raise ProtocolError(
                f"unexpected message type 0x{type_byte[0]:02X} during COPY from stdin"
            )


async def _copy_out(
    stream: CopyOutStream, out: WriteBuffer, flush: Callable[[], Awaitable[None]]
) -> str:
    column_count = await stream.start()
    write_copy_response(out, b"H", stream.binary, column_count)
    async for batch in stream.batches():
        for data in batch:
            out.write_message(b"d", data)
        if len(out) >= _FLUSH_THRESHOLD:
            await flush()
    out.write_message(b"c")
    return stream.tag


def write_copy_response(buf: WriteBuffer, type_byte: bytes, binary: bool, columns: int) -> None:
    """CopyInResponse ('G') or CopyOutResponse ('H'): the overall and per-column formats."""
    format_code = 1 if binary else 0
    buf.start_message(type_byte)
    buf.write_byte(bytes([format_code]))
    buf.write_int16(columns)
    for _ in range(columns):
        buf.write_int16(format_code)
    buf.end_message()
