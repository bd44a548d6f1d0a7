"""COPY FROM STDIN: CopyData bytes -> parsed column buffers -> one insert at CopyDone.

Data is parsed as it arrives, in chunks on a worker thread (the next chunk is received while the
previous one is parsed), so a bad row fails the COPY at once and memory holds column arrays
rather than raw text. Nothing is written before CopyDone: the whole COPY is one insert (one
DuckDB transaction, then the in-memory append), so a COPY that fails anywhere - a bad row, a
duplicate id, CopyFail from the client, the connection dropping - leaves the collection as it
was. The bytes a COPY may send are capped (`SQLVEC_MAX_COPY_BYTES`, 2 GiB by default; 54000
beyond it), since everything is held until CopyDone.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import numpy as np

from sqlvec.copy.binary_format import BinaryReader
from sqlvec.copy.columns import ColumnBuffers, CopyTarget
from sqlvec.copy.csv_format import CsvReader
from sqlvec.copy.options import CopyOptions
from sqlvec.copy.text_format import TextReader
from sqlvec.engine.catalog import ColumnSpec
from sqlvec.engine.engine import Engine
from sqlvec.engine.writes import duplicate_error, null_violation
from sqlvec.errors import ProgramLimitExceeded

OffLoop = Callable[[Callable[[], Any]], Awaitable[Any]]

DEFAULT_MAX_COPY_BYTES = 2 * 1024**3
MAX_COPY_BYTES_VARIABLE = "SQLVEC_MAX_COPY_BYTES"
# Bytes gathered before a chunk is parsed: large enough that the worker hop and numpy's
# per-call costs vanish, small enough that parsing overlaps receiving.
PARSE_CHUNK_BYTES = 4 * 1024 * 1024


def max_copy_bytes() -> int:
    value = os.environ.get(MAX_COPY_BYTES_VARIABLE, "")
    return int(value) if value.strip() else DEFAULT_MAX_COPY_BYTES


class _Reader(Protocol):
    line: int

    def feed(self, data: bytes, final: bool) -> bytes: ...


class CopyIn:
    """One COPY FROM STDIN (implements wire.copy.CopyInStream)."""

    def __init__(
        self,
        engine: Engine,
        collection: str,
        columns: tuple[ColumnSpec, ...],
        options: CopyOptions,
        off_loop: OffLoop,
        on_success: Callable[[], None] = lambda: None,
        max_bytes: int | None = None,
    ) -> None:
        self.binary = options.binary
        self.column_count = len(columns)
        self._engine = engine
        self._target = CopyTarget(collection, columns)
        self._options = options
        self._buffers = ColumnBuffers(columns)
        self._reader = _reader(self._target, options, self._buffers)
        self._off_loop = off_loop
        self._on_success = on_success
        self._max_bytes = max_copy_bytes() if max_bytes is None else max_bytes
        self._received = 0
        self._chunks: list[bytes] = []  # received, not handed to the reader yet
        self._chunked = 0
        self._parsing: asyncio.Future[bytes] | None = None

    async def write(self, data: bytes) -> None:
        self._received += len(data)
        if self._received > self._max_bytes:
            raise ProgramLimitExceeded(
                f"COPY data exceeds the limit of {self._max_bytes} bytes",
                hint=f"Split the data into several COPY statements, or raise "
                f"{MAX_COPY_BYTES_VARIABLE} on the server.",
                context=self._target.line_context(self._reader.line + 1),
            )
        self._chunks.append(data)
        self._chunked += len(data)
        if self._chunked >= PARSE_CHUNK_BYTES:
            await self._parse(final=False)

    async def finish(self) -> str:
        await self._parse(final=True)
        count: int = await self._off_loop(self._insert)
        self._on_success()
        return f"COPY {count}"

    def abort(self) -> None:
        """The COPY ended without CopyDone (an error, CopyFail): nothing is stored."""
        parsing, self._parsing = self._parsing, None
        if parsing is not None:
            if parsing.done():
                parsing.exception()  # retrieved: a failed parse of a failed COPY is no news
            else:
                parsing.cancel()

    async def _parse(self, final: bool) -> None:
        """Hand what was received to the reader; the previous chunk must be parsed first,
        since its incomplete tail belongs in front of this one."""
        rest = await self._parsing if self._parsing is not None else b""
        self._parsing = None
        chunks = [rest, *self._chunks] if rest else self._chunks
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self._chunks = []
        self._chunked = 0
        parsing = asyncio.ensure_future(self._off_loop(lambda: self._feed(data, final)))
        if final:
            await parsing
        else:
            self._parsing = parsing

    def _feed(self, data: bytes, final: bool) -> bytes:
        rest = self._reader.feed(data, final)
        self._buffers.flush()
        return rest

    def _insert(self) -> int:
        count = self._buffers.count
        if count == 0:
            return 0
        values = self._buffers.values()
        collection = self._engine.collection(self._target.table)
        spec = collection.spec
        first_line = self._target.line_context(self._first_data_line())
        for column in spec.columns:
            if column.name not in values and column.not_null and not column.primary_key:
                error = null_violation(spec, column)
                error.context = first_line
                raise error
        id_name = spec.id_column.name
        if id_name in values:
            ids = np.asarray(values[id_name], dtype=np.int64)
            clash = self._engine.first_duplicate(spec.name, ids)
            if clash is not None:
                duplicate = duplicate_error(spec, int(ids[clash]))
                duplicate.context = self._target.line_context(self._first_data_line() + clash)
                raise duplicate
            values[id_name] = ids
        return len(self._engine.insert_columns(spec.name, values, count))

    def _first_data_line(self) -> int:
        return 2 if self._options.header else 1


def _reader(target: CopyTarget, options: CopyOptions, buffers: ColumnBuffers) -> _Reader:
    if options.binary:
        return BinaryReader(target, buffers)
    if options.csv:
        return CsvReader(target, options, buffers)
    return TextReader(target, options, buffers)
