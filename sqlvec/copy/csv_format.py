"""COPY's csv format, with Postgres' rules rather than Python's csv module's.

Postgres tells an unquoted empty field (NULL by default) from a quoted one (`""`, an empty
string), lets quoted and unquoted parts follow each other in one field (`a"b,c"d` is `ab,cd`),
has a separate ESCAPE character, and FORCE_NOT_NULL / FORCE_NULL; Python's csv reader knows none
of these. Records may span lines inside quotes, and a record is parsed only once it is complete:
what is left at the end of a CopyData chunk waits for the next one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlvec.copy.columns import (
    BadCopyFileFormat,
    ColumnBuffers,
    CopyTarget,
    text_decoder,
    with_context,
)
from sqlvec.copy.options import CopyOptions
from sqlvec.copy.text_format import check_header
from sqlvec.errors import SqlvecError
from sqlvec.wire.codecs import ValueEncoder

_END_OF_DATA = b"\\."


class _Incomplete(Exception):
    """The record goes on past the data received so far."""


class CsvReader:
    def __init__(self, target: CopyTarget, options: CopyOptions, buffers: ColumnBuffers) -> None:
        self._target = target
        self._options = options
        self._buffers = buffers
        self._delimiter = options.delimiter.encode()
        self._quote = options.quote.encode()
        self._escape = options.escape.encode()
        self._null = options.null.encode()
        self._decoders = [text_decoder(column) for column in target.columns]
        names = target.names
        self._force_not_null = [name in options.force_not_null for name in names]
        self._force_null = [name in options.force_null for name in names]
        delimiter, quote, escape = map(re.escape, (self._delimiter, self._quote, self._escape))
        self._unquoted = re.compile(rb"[^" + delimiter + quote + rb"\r\n]*")
        if self._escape == self._quote:
            self._quoted = re.compile(
                quote + rb"((?:[^" + quote + rb"]|" + quote * 2 + rb")*)" + quote
            )
            self._unescape = re.compile(quote * 2)
        else:
            self._quoted = re.compile(
                quote + rb"((?:[^" + quote + escape + rb"]|" + escape + rb".)*)" + quote,
                re.DOTALL,
            )
            self._unescape = re.compile(escape + rb"([" + quote + escape + rb"])")
        self._skip_header = options.header
        self.line = 0
        self.ended = False

    def feed(self, data: bytes, final: bool) -> bytes:
        """Parse the complete records of `data`; returns what is left for the next call."""
        position = 0
        while position < len(data) and not self.ended:
            try:
                fields, end = self._record(data, position, final)
            except _Incomplete:
                if final:
                    raise BadCopyFileFormat(
                        "unterminated CSV quoted field",
                        context=self._target.line_context(self.line + 1, data[position:]),
                    ) from None
                break
            raw = data[position:end].rstrip(b"\r\n")
            position = end
            self.line += 1
            if self._skip_header:
                self._skip_header = False
                if self._options.header_match:
                    texts = [f[0].decode(errors="replace") for f in fields]
                    check_header(self._target, texts, self.line, raw)
                continue
            if raw == _END_OF_DATA and not fields[0][1]:
                self.ended = True
                break
            self._buffers.add_row(self._row(fields, raw))
        return b"" if self.ended else data[position:]

    def _record(
        self, data: bytes, position: int, final: bool
    ) -> tuple[list[tuple[bytes, bool]], int]:
        """The fields (value, was it quoted) of the record at `position`, and where it ends."""
        fields: list[tuple[bytes, bool]] = []
        size = len(data)
        while True:
            parts: list[bytes] = []
            quoted = False
            while True:
                match = self._unquoted.match(data, position)
                assert match is not None  # `*`: always matches, maybe empty
                parts.append(match.group())
                position = match.end()
                if data[position : position + 1] != self._quote:
                    break
                quoted_match = self._quoted.match(data, position)
                if quoted_match is None:
                    raise _Incomplete
                parts.append(self._unescape.sub(self._unescaped, quoted_match.group(1)))
                quoted = True
                position = quoted_match.end()
            fields.append((b"".join(parts), quoted))
            next_byte = data[position : position + 1]
            if next_byte == self._delimiter:
                position += 1
                continue
            if next_byte == b"\n":
                return fields, position + 1
            if next_byte == b"\r":
                if position + 1 == size and not final:
                    raise _Incomplete  # a \r\n pair may be cut between chunks
                return fields, position + (2 if data[position + 1 : position + 2] == b"\n" else 1)
            if not final:
                raise _Incomplete
            return fields, position

    def _unescaped(self, match: re.Match[bytes]) -> bytes:
        return self._quote if self._escape == self._quote else match.group(1)

    def _row(self, fields: list[tuple[bytes, bool]], raw: bytes) -> list[Any]:
        target = self._target
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
        for index, (column, (value, quoted)) in enumerate(zip(target.columns, fields, strict=True)):
            is_null = value == self._null and (
                (not quoted and not self._force_not_null[index])
                or (quoted and self._force_null[index])
            )
            if is_null:
                if column.not_null:
                    raise target.null_violation(column, self.line, raw)
                values.append(None)
                continue
            try:
                values.append(self._decoders[index](value))
            except SqlvecError as error:
                raise with_context(error, target.column_context(self.line, column, value)) from None
        return values


def csv_rows(
    rows: Sequence[Sequence[Any]],
    encoders: Sequence[ValueEncoder],
    names: Sequence[str],
    options: CopyOptions,
) -> list[bytes]:
    """Rows in csv format, one line per row (a value with a newline is quoted, not escaped)."""
    delimiter, quote, escape, null = options.delimiter, options.quote, options.escape, options.null
    force = [options.force_quote_all or name in options.force_quote for name in names]
    # `\.` alone on a line would read as the end of the data.
    end_marker = "\\." if len(names) == 1 else None
    needs_quotes = re.compile("[" + re.escape(delimiter + quote + "\r\n") + "]")
    escaped = re.compile("[" + re.escape(quote + escape) + "]")

    def field(value: Any, encode: ValueEncoder, forced: bool) -> str:
        if value is None:
            return null
        text = encode(value).decode()
        if forced or text in (null, end_marker) or needs_quotes.search(text):
            return quote + escaped.sub(lambda m: escape + m.group(), text) + quote
        return text

    return [(delimiter.join(map(field, row, encoders, force)) + "\n").encode() for row in rows]


def csv_header(names: Sequence[str], options: CopyOptions) -> bytes:
    plain = replace(options, force_quote=(), force_quote_all=False)  # names are quoted as needed
    return csv_rows([names], [str.encode] * len(names), names, plain)[0]
