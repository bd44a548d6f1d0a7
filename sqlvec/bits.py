"""The `bit` and `varbit` types' value semantics, as Postgres defines them (pgvector's binary
vectors are Postgres bit strings): text form, checks, messages.

Values are str of '0' and '1' (DuckDB's BIT values have the same form). A collection's `bit(n)`
column is held in memory as an (rows, n) float32 matrix of 0 and 1, so that every vector path
(the in-memory copy, segments, exact search) carries it unchanged; binary Faiss indexes pack it.
"""

from __future__ import annotations

import re
import struct

import numpy as np

from sqlvec.errors import (
    DataException,
    InvalidBinaryRepresentation,
    InvalidTextRepresentation,
    StringDataLengthMismatch,
)

MAX_COLUMN_BITS = 64000  # pgvector indexes bit vectors of up to 64000 bits
_BITS = re.compile(r"[01]*")
_NOT_BINARY = re.compile(r"[^01]")
_LENGTH = struct.Struct("!i")


def parse_bits(text: str) -> str:
    """bit_in: a string of binary digits, or `x` and hexadecimal digits."""
    if text[:1] in ("x", "X"):
        return _parse_hex(text)
    body = text[1:] if text[:1] in ("b", "B") else text
    if not _BITS.fullmatch(body):
        bad = _NOT_BINARY.search(body)
        digit = bad.group(0) if bad else body
        raise InvalidTextRepresentation(f'"{digit}" is not a valid binary digit')
    return body


def _parse_hex(text: str) -> str:
    digits = text[1:]
    bits = []
    for digit in digits:
        try:
            bits.append(format(int(digit, 16), "04b"))
        except ValueError:
            raise InvalidTextRepresentation(f'"{digit}" is not a valid hexadecimal digit') from None
    return "".join(bits)


def fit_length(bits: str, length: int | None, explicit: bool) -> str:
    """A value for `bit(length)`: an explicit cast pads with zeros or truncates on the right,
    as Postgres does; storing into a column needs the exact length (22026)."""
    if length is None or len(bits) == length:
        return bits
    if explicit:
        return bits[:length].ljust(length, "0")
    raise StringDataLengthMismatch(
        f"bit string length {len(bits)} does not match type bit({length})"
    )


def to_row(bits: str) -> np.ndarray:
    """The float32 0/1 row the in-memory copy holds."""
    return (np.frombuffer(bits.encode("ascii"), dtype=np.uint8) - ord("0")).astype(np.float32)


def from_row(row: np.ndarray) -> str:
    digits = (np.asarray(row) != 0).astype(np.uint8) + np.uint8(ord("0"))
    return digits.tobytes().decode("ascii")


def encode_binary(bits: str) -> bytes:
    """bit_send: int32 length in bits, then the bits packed, most significant first."""
    packed = np.packbits(to_row(bits).astype(np.uint8)).tobytes() if bits else b""
    return _LENGTH.pack(len(bits)) + packed


def decode_binary(data: bytes) -> str:
    if len(data) < _LENGTH.size:
        raise InvalidBinaryRepresentation("insufficient data left in message")
    (length,) = _LENGTH.unpack_from(data)
    if length < 0 or len(data) != _LENGTH.size + (length + 7) // 8:
        raise InvalidBinaryRepresentation("invalid length in external bit string")
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8, offset=_LENGTH.size), count=length)
    return (bits + ord("0")).astype(np.uint8).tobytes().decode("ascii")


def check_same_lengths(a: int, b: int) -> None:
    if a != b:
        raise DataException(f"different bit lengths {a} and {b}")
