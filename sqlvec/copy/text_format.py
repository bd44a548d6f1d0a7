"""COPY's text format (Postgres' default): one row per line, fields split by the delimiter (tab),
`\\N` for NULL, and backslash escapes in the values.

Reading works on bytes and decodes each value as UTF-8 on its own, so a multi-byte character is
never cut by a CopyData boundary: only complete lines (up to the last newline received) are
parsed, the rest waits for more data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlvec.copy.columns import (
    BadCopyFileFormat,
    ColumnBuffers,
    CopyTarget,
    text_decoder,
    with_context,
)
from sqlvec.copy.options import CopyOptions
from sqlvec.errors import SqlvecError
from sqlvec.wire.codecs import ValueEncoder

_END_OF_DATA = b"\\."
# Backslash sequences: octal (1-3 digits), hex (x + 1-2 digits), or any one character.
_ESCAPE = re.compile(rb"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.)|$)", re.DOTALL)
_ESCAPED_CHARACTERS = {
    b"b": b"\b",
    b"f": b"\f",
    b"n": b"\n",
    b"r": b"\r",
    b"t": b"\t",
    b"v": b"\v",
}
# What COPY TO escapes in text format, besides the delimiter.
_OUTPUT_ESCAPES = {
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


def _unescape_match(match: re.Match[bytes]) -> bytes:
    octal, hexadecimal, other = match.groups()
    if octal is not None:
        return bytes([int(octal, 8) & 0xFF])
    if hexadecimal is not None:
        return bytes([int(hexadecimal, 16)])
    if other is None:
        return b"\\"  # a backslash at the very end of the line stays as it is
    return _ESCAPED_CHARACTERS.get(other, other)


def unescape(field: bytes) -> bytes:
    return _ESCAPE.sub(_unescape_match, field) if b"\\" in field else field


class TextReader:
    def __init__(self, target: CopyTarget, options: CopyOptions, buffers: ColumnBuffers) -> None:
        self._target = target
        self._options = options
        self._buffers = buffers
        self._delimiter = options.delimiter.encode()
        self._null = options.null.encode()
        self._decoders = [text_decoder(column) for column in target.columns]
        self._not_null = [column.not_null for column in target.columns]
        # A delimiter only splits where it is not escaped: `\` + any byte is one unit.
        self._splitter = re.compile(rb"\\.|" + re.escape(self._delimiter), re.DOTALL)
        self._skip_header = options.header
        self.line = 0
        self.ended = False  # `\.` was read: the rest of the data is ignored

    def feed(self, data: bytes, final: bool) -> bytes:
        """Parse the complete lines of `data`; returns what is left for the next call."""
        if self.ended:
            return b""
        end = len(data) if final else data.rfind(b"\n") + 1
        lines = data[:end].split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()  # after the last newline
        for raw in lines:
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            self.line += 1
            if self._skip_header:
                self._skip_header = False
                if self._options.header_match:
                    self._match_header(raw)
                continue
            if raw == _END_OF_DATA:
                self.ended = True
                return b""
            self._buffers.add_row(self._row(raw))
        return data[end:]

    def _fields(self, raw: bytes) -> list[bytes]:
        if b"\\" not in raw:
            return raw.split(self._delimiter)
        fields, start = [], 0
        for match in self._splitter.finditer(raw):
            if match.group() == self._delimiter:
                fields.append(raw[start : match.start()])
                start = match.end()
        fields.append(raw[start:])
        return fields

    def _row(self, raw: bytes) -> list[Any]:
        target = self._target
        fields = self._fields(raw)
        if len(fields) < len(self._decoders):
            missing = target.columns[len(fields)].name
            raise BadCopyFileFormat(
                f'missing data for column "{missing}"', context=target.line_context(self.line, raw)
            )
        if len(fields) > len(self._decoders):
            raise BadCopyFileFormat(
                "extra data after last expected column",
                context=target.line_context(self.line, raw),
            )
        values: list[Any] = []
        for column, field, decode, not_null in zip(
            target.columns, fields, self._decoders, self._not_null, strict=True
        ):
            if field == self._null:
                if not_null:
                    raise target.null_violation(column, self.line, raw)
                values.append(None)
                continue
            value = unescape(field)
            try:
                values.append(decode(value))
            except SqlvecError as error:
                raise with_context(error, target.column_context(self.line, column, value)) from None
        return values

    def _match_header(self, raw: bytes) -> None:
        fields = [unescape(field).decode(errors="replace") for field in self._fields(raw)]
        check_header(self._target, fields, self.line, raw)


def check_header(target: CopyTarget, fields: Sequence[str], line: int, raw: bytes) -> None:
    """HEADER MATCH: the header line must name the COPY's columns, in order."""
    names = target.names
    context = target.line_context(line, raw)
    if len(fields) != len(names):
        message = (
            "extra data after last expected column"
            if len(fields) > len(names)
            else (f'missing data for column "{names[len(fields)]}"')
        )
        raise BadCopyFileFormat(message, context=context)
    for number, (found, expected) in enumerate(zip(fields, names, strict=True), start=1):
        if found != expected:
            raise BadCopyFileFormat(
                f'column name mismatch in header line field {number}: got "{found}", '
                f'expected "{expected}"',
                context=context,
            )


def text_rows(
    rows: Sequence[Sequence[Any]], encoders: Sequence[ValueEncoder], options: CopyOptions
) -> list[bytes]:
    """Rows in text format, one line (newline included) per row."""
    delimiter = options.delimiter
    null = options.null
    # Control characters by name (`\t`, also when tab is the delimiter), else `\` + delimiter.
    escapes = {delimiter: "\\" + delimiter, **_OUTPUT_ESCAPES}
    special = re.compile("|".join(re.escape(c) for c in escapes))

    def field(value: Any, encode: ValueEncoder) -> str:
        if value is None:
            return null
        text = encode(value).decode()
        return special.sub(lambda m: escapes[m.group()], text) if special.search(text) else text

    return [(delimiter.join(map(field, row, encoders)) + "\n").encode() for row in rows]


def text_header(names: Sequence[str], options: CopyOptions) -> bytes:
    return (options.delimiter.join(names) + "\n").encode()
