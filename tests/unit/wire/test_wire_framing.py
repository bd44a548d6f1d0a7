"""Framing: length caps checked before anything is read or allocated, bounds-checked decoding."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable

import pytest

from sqlvec.errors import ProtocolViolation
from sqlvec.wire.buffer import (
    DEFAULT_MAX_MESSAGE_LENGTH,
    FrameReader,
    MessageReader,
    WriteBuffer,
    read_startup_packet,
)


def stream(data: bytes, *, eof: bool) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    if eof:
        reader.feed_eof()
    return reader


def read_message_from(data: bytes, max_length: int = DEFAULT_MAX_MESSAGE_LENGTH) -> object:
    async def read() -> object:
        # No EOF: a reader that tried to wait for the announced body would hang, and the
        # timeout would fail the test instead of the expected ProtocolViolation.
        return await asyncio.wait_for(FrameReader(stream(data, eof=False), max_length).message(), 2)

    return asyncio.run(read())


def read_startup_from(data: bytes, *, eof: bool = False) -> bytes | None:
    async def read() -> bytes | None:
        return await asyncio.wait_for(read_startup_packet(stream(data, eof=eof)), 2)

    return asyncio.run(read())


def test_a_message_is_read_whole() -> None:
    assert read_message_from(b"Q\x00\x00\x00\x0bselect\x00") == (b"Q", b"select\x00")


def test_a_huge_length_is_rejected_before_reading_the_body() -> None:
    with pytest.raises(ProtocolViolation, match="exceeds the limit"):
        read_message_from(b"Q" + struct.pack("!i", 2**31 - 1))


def test_the_message_cap_is_configurable() -> None:
    assert read_message_from(b"d\x00\x00\x00\x08abcd", max_length=8) == (b"d", b"abcd")
    with pytest.raises(ProtocolViolation):
        read_message_from(b"d\x00\x00\x00\x09abcde", max_length=8)


@pytest.mark.parametrize("length", [-1, 0, 3, -(2**31)])
def test_negative_and_too_small_lengths_are_rejected(length: int) -> None:
    with pytest.raises(ProtocolViolation, match="invalid message length"):
        read_message_from(b"Q" + struct.pack("!i", length))


@pytest.mark.parametrize("length", [10_001, 2**31 - 1, 7, 0, -5])
def test_startup_packet_length_is_capped_like_postgres(length: int) -> None:
    with pytest.raises(ProtocolViolation, match="invalid length of startup packet"):
        read_startup_from(struct.pack("!i", length))


def test_a_startup_packet_at_the_cap_is_read() -> None:
    body = b"x" * (10_000 - 4)
    assert read_startup_from(struct.pack("!i", 10_000) + body) == body


@pytest.mark.parametrize("data", [b"", b"Q", b"Q\x00\x00", b"Q\x00\x00\x00\x0bsel"])
def test_a_client_that_goes_away_mid_message_reads_as_end_of_stream(data: bytes) -> None:
    async def read() -> object:
        return await FrameReader(stream(data, eof=True)).message()

    assert asyncio.run(read()) is None


def test_write_buffer_fills_in_the_length() -> None:
    buf = WriteBuffer()
    buf.start_message(b"S")
    buf.write_cstring("a")
    buf.write_cstring("é")
    buf.end_message()
    buf.write_message(b"Z", b"I")
    assert buf.take() == b"S\x00\x00\x00\x09a\x00\xc3\xa9\x00Z\x00\x00\x00\x05I"
    assert len(buf) == 0


def test_write_buffer_integers_are_big_endian_and_signed() -> None:
    buf = WriteBuffer()
    buf.write_int16(-2)
    buf.write_int32(258)
    buf.write_uint32(2**32 - 1)
    assert buf.take() == b"\xff\xfe\x00\x00\x01\x02\xff\xff\xff\xff"


def test_message_reader_decodes_fields_in_order() -> None:
    reader = MessageReader(b"\xff\xfe\x00\x00\x01\x02ab\x00rest")
    assert reader.int16() == -2
    assert reader.int32() == 258
    assert reader.cstring() == "ab"
    assert reader.rest() == b"rest"
    reader.finish()


@pytest.mark.parametrize(
    "read",
    [
        lambda r: r.int32(),
        lambda r: r.raw(4),
        lambda r: r.raw(-1),
        lambda r: r.cstring(),  # no terminator
    ],
)
def test_message_reader_never_reads_past_the_end(read: Callable[[MessageReader], object]) -> None:
    with pytest.raises(ProtocolViolation):
        read(MessageReader(b"abc"))


def test_trailing_bytes_are_a_protocol_violation() -> None:
    reader = MessageReader(b"\x00\x01x")
    reader.int16()
    with pytest.raises(ProtocolViolation, match="invalid message format"):
        reader.finish()


def read_all_frames(chunks: list[bytes]) -> list[tuple[bytes, bytes]]:
    """Every message of a stream that arrives in these chunks, up to end of stream."""

    async def read() -> list[tuple[bytes, bytes]]:
        reader = asyncio.StreamReader()
        frames = FrameReader(reader)
        for chunk in chunks:
            reader.feed_data(chunk)
        reader.feed_eof()
        found = []
        while (frame := await frames.message()) is not None:
            found.append(frame)
        return found

    return asyncio.run(read())


def framed(type_byte: bytes, body: bytes) -> bytes:
    return type_byte + struct.pack("!i", len(body) + 4) + body


def test_pipelined_messages_in_one_packet_are_read_one_by_one() -> None:
    packet = framed(b"B", b"\0\0" + b"x" * 30) + framed(b"E", b"\0\0\0\0\0") + framed(b"S", b"")
    assert read_all_frames([packet]) == [
        (b"B", b"\0\0" + b"x" * 30),
        (b"E", b"\0\0\0\0\0"),
        (b"S", b""),
    ]


@pytest.mark.parametrize("cut", [1, 3, 5, 9, 20])
def test_messages_split_anywhere_across_reads_come_out_whole(cut: int) -> None:
    stream_bytes = framed(b"Q", b"select 1\0") + framed(b"H", b"") + framed(b"Q", b"x\0")
    chunks = [stream_bytes[i : i + cut] for i in range(0, len(stream_bytes), cut)]
    assert read_all_frames(chunks) == [(b"Q", b"select 1\0"), (b"H", b""), (b"Q", b"x\0")]


def test_a_body_larger_than_one_read_is_read_whole() -> None:
    body = bytes(range(256)) * 1024  # 256 KiB: several socket reads
    stream_bytes = framed(b"d", body) + framed(b"c", b"")
    chunks = [stream_bytes[i : i + 10_000] for i in range(0, len(stream_bytes), 10_000)]
    assert read_all_frames(chunks) == [(b"d", body), (b"c", b"")]
