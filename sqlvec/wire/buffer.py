"""Message framing: building backend messages, reading and decoding frontend ones.

Every length that arrives from the network is checked against a cap before anything is
allocated for it, so a hostile or broken client cannot make the server reserve memory.
"""

from __future__ import annotations

import asyncio
import struct

from sqlvec.errors import CharacterNotInRepertoire, ProtocolViolation

INT16 = struct.Struct("!h")
UINT16 = struct.Struct("!H")
INT32 = struct.Struct("!i")
UINT32 = struct.Struct("!I")

NULL_FIELD = INT32.pack(-1)
_FIELD_PREFIXES = tuple(INT32.pack(size) for size in range(256))  # the usual lengths, made once

MAX_STARTUP_PACKET_LENGTH = 10_000  # PostgreSQL's MAX_STARTUP_PACKET_LENGTH
DEFAULT_MAX_MESSAGE_LENGTH = 256 * 1024 * 1024
_LENGTH_FIELD_SIZE = 4


def field(data: bytes | None) -> bytes:
    """One value of a tuple (DataRow, binary COPY) or of a binary array: its int32 length,
    -1 for NULL, then its bytes."""
    if data is None:
        return NULL_FIELD
    size = len(data)
    return (_FIELD_PREFIXES[size] if size < 256 else INT32.pack(size)) + data


class WriteBuffer:
    """Accumulates backend messages; the connection decides when to hand them to the socket."""

    def __init__(self) -> None:
        self._data = bytearray()
        self._message_start = -1

    def __len__(self) -> int:
        return len(self._data)

    def start_message(self, type_byte: bytes) -> None:
        self._data += type_byte
        self._message_start = len(self._data)
        self._data += b"\0\0\0\0"  # the length, filled in by end_message

    def end_message(self) -> None:
        INT32.pack_into(self._data, self._message_start, len(self._data) - self._message_start)
        self._message_start = -1

    def write_message(self, type_byte: bytes, body: bytes | bytearray = b"") -> None:
        """A whole message at once, for bodies built elsewhere (DataRow) or empty ones."""
        self._data += type_byte
        self._data += INT32.pack(len(body) + _LENGTH_FIELD_SIZE)
        self._data += body

    def write_byte(self, value: bytes) -> None:
        self._data += value

    def write_int16(self, value: int) -> None:
        self._data += INT16.pack(value)

    def write_int32(self, value: int) -> None:
        self._data += INT32.pack(value)

    def write_uint32(self, value: int) -> None:
        self._data += UINT32.pack(value)

    def write_cstring(self, value: str) -> None:
        self._data += value.encode()
        self._data += b"\0"

    def write_bytes(self, value: bytes | bytearray) -> None:
        self._data += value

    def take(self) -> bytes:
        """Everything written so far; the buffer is empty afterwards."""
        data = bytes(self._data)
        self._data.clear()
        return data


async def read_startup_packet(reader: asyncio.StreamReader) -> bytes | None:
    """The body of an untyped startup-phase packet, or None when the client went away."""
    length = await _read_length(reader)
    if length is None:
        return None
    if not _LENGTH_FIELD_SIZE + 4 <= length <= MAX_STARTUP_PACKET_LENGTH:
        raise ProtocolViolation("invalid length of startup packet")
    return await _read_exactly(reader, length - _LENGTH_FIELD_SIZE)


class FrameReader:
    """Typed messages of one connection, cut out of what each read of the socket brought.

    Clients pipeline: a prepared query arrives as Bind, Describe, Execute and Sync in one
    packet, so one read serves four messages instead of two awaited reads per message.
    """

    _READ_SIZE = 64 * 1024

    def __init__(
        self, reader: asyncio.StreamReader, max_length: int = DEFAULT_MAX_MESSAGE_LENGTH
    ) -> None:
        self._reader = reader
        self._max_length = max_length
        self._data = b""
        self._position = 0

    async def message(self) -> tuple[bytes, bytes] | None:
        """The next message as (type byte, body), or None when the client went away."""
        frame = self.buffered()
        if frame is not None:
            return frame
        while len(self._data) < self._position + 1 + _LENGTH_FIELD_SIZE:
            if not await self._read_more():
                return None
        frame = self.buffered()
        if frame is not None:
            return frame
        # A body longer than what is here: read exactly the rest, never a buffer that grows
        # by concatenation (a COPY chunk or a large Bind would cost quadratic copying).
        data, start = self._data, self._position
        end = start + 1 + self._checked_length(data, start)
        head = data[start + 1 + _LENGTH_FIELD_SIZE :]
        self._data, self._position = b"", 0
        rest = await _read_exactly(self._reader, end - len(data))
        if rest is None:
            return None
        return data[start : start + 1], head + rest

    def holding(self, data: bytes) -> FrameReader:
        """A reader of the messages in `data` alone, with this reader's limit: for a read
        answered before it reaches the stream (`buffered`, `starts_with` and `advance`)."""
        frames = FrameReader(self._reader, self._max_length)
        frames._data = data
        return frames

    def empty(self) -> bool:
        """Whether every byte read so far has been taken as a message."""
        return self._position == len(self._data)

    def rest(self) -> bytes:
        """The bytes not taken as messages yet."""
        return self._data[self._position :]

    def buffered(self) -> tuple[bytes, bytes] | None:
        """The next message when all of it has been read already (no await: the messages of
        a pipelined query are taken one after another without a trip through the loop)."""
        data, start = self._data, self._position
        header_end = start + 1 + _LENGTH_FIELD_SIZE
        if len(data) < header_end:
            return None
        end = start + 1 + self._checked_length(data, start)
        if end > len(data):
            return None
        self._position = end
        return data[start : start + 1], data[header_end:end]

    def starts_with(self, data: bytes) -> bool:
        """Whether the bytes read and not taken yet begin with `data`."""
        return self._data.startswith(data, self._position)

    def advance(self, count: int) -> None:
        """Take `count` bytes that `starts_with` saw: whole messages."""
        self._position += count

    def _checked_length(self, data: bytes, start: int) -> int:
        length: int = INT32.unpack_from(data, start + 1)[0]
        if length < _LENGTH_FIELD_SIZE:
            raise ProtocolViolation(f"invalid message length {length}")
        if length > self._max_length:
            raise ProtocolViolation(
                f"message of {length} bytes exceeds the limit of {self._max_length}"
            )
        return length

    async def _read_more(self) -> bool:
        try:
            chunk = await self._reader.read(self._READ_SIZE)
        except ConnectionError:
            return False
        if not chunk:
            return False
        self._data = self._data[self._position :] + chunk
        self._position = 0
        return True


async def _read_length(reader: asyncio.StreamReader) -> int | None:
    data = await _read_exactly(reader, _LENGTH_FIELD_SIZE)
    return None if data is None else INT32.unpack(data)[0]


async def _read_exactly(reader: asyncio.StreamReader, count: int) -> bytes | None:
    # A connection that ends mid-message is a client that went away, as at a boundary:
    # there is nobody left to send an error to.
    try:
        return await reader.readexactly(count)
    except (asyncio.IncompleteReadError, ConnectionError):
        return None


class MessageReader:
    """Decodes one message body field by field; running past the end is a ProtocolViolation."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._position = 0

    def int16(self) -> int:
        return self._unpack(INT16)

    def uint16(self) -> int:
        return self._unpack(UINT16)

    def int32(self) -> int:
        return self._unpack(INT32)

    def uint32(self) -> int:
        return self._unpack(UINT32)

    def byte(self) -> bytes:
        return self.raw(1)

    def raw(self, count: int) -> bytes:
        end = self._position + count
        if count < 0 or end > len(self._data):
            raise ProtocolViolation("insufficient data left in message")
        value = self._data[self._position : end]
        self._position = end
        return value

    def cstring(self) -> str:
        end = self._data.find(b"\0", self._position)
        if end < 0:
            raise ProtocolViolation("invalid string in message")
        value = self._data[self._position : end]
        self._position = end + 1
        return decode_utf8(value)

    def rest(self) -> bytes:
        """Everything not read yet."""
        return self.raw(len(self._data) - self._position)

    def finish(self) -> None:
        """A message must hold exactly its fields; trailing bytes mean a confused client."""
        if self._position != len(self._data):
            raise ProtocolViolation("invalid message format")

    def _unpack(self, layout: struct.Struct) -> int:
        start = self._position
        end = start + layout.size
        if end > len(self._data):
            raise ProtocolViolation("insufficient data left in message")
        self._position = end
        value: int = layout.unpack_from(self._data, start)[0]
        return value


def decode_utf8(data: bytes) -> str:
    """Decode client text, rejecting what PostgreSQL's UTF8 verification rejects (NUL too)."""
    try:
        text = data.decode()
    except UnicodeDecodeError as exc:
        raise invalid_utf8(exc.object[exc.start : exc.end]) from None
    if "\0" in text:
        raise invalid_utf8(b"\0")
    return text


def invalid_utf8(bad_bytes: bytes) -> CharacterNotInRepertoire:
    shown = " ".join(f"0x{byte:02x}" for byte in bad_bytes)
    return CharacterNotInRepertoire(f'invalid byte sequence for encoding "UTF8": {shown}')
