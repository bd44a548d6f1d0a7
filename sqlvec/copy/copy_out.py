"""COPY TO STDOUT: run the query, then send its rows as CopyData, one message per row.

Rows are encoded in batches on a worker thread (text vectors cost tens of microseconds each),
with the wire layer's codecs: vectors in pgvector's text form `[1,2,3]` or binary form, every
other type as in query results. In binary format the header travels with the first row and the
trailer in a message of its own, as PostgreSQL sends them (psycopg's row reader expects that).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from functools import partial
from typing import Any

from sqlvec.copy.binary_format import HEADER, TRAILER, binary_rows
from sqlvec.copy.copy_in import OffLoop
from sqlvec.copy.csv_format import csv_header, csv_rows
from sqlvec.copy.options import CopyOptions
from sqlvec.copy.text_format import text_header, text_rows
from sqlvec.engine.outcome import Outcome
from sqlvec.wire.codecs import BINARY_FORMAT, TEXT_FORMAT, ValueEncoder, result_encoders
from sqlvec.wire.handler import ColumnDesc

BATCH_ROWS = 2000


class CopyOut:
    """One COPY TO STDOUT (implements wire.copy.CopyOutStream)."""

    def __init__(
        self, run_query: Callable[[], Outcome], options: CopyOptions, off_loop: OffLoop
    ) -> None:
        self.binary = options.binary
        self._run_query = run_query
        self._options = options
        self._off_loop = off_loop
        self._outcome: Outcome | None = None
        self._names: list[str] = []
        self._encoders: list[ValueEncoder] = []

    @property
    def tag(self) -> str:
        return f"COPY {len(self._outcome.rows) if self._outcome else 0}"

    async def start(self) -> int:
        outcome: Outcome = await self._off_loop(self._run_query)
        columns = [ColumnDesc(c.name, c.type, c.typmod) for c in outcome.columns or []]
        self._names = [c.name for c in columns]
        self._options.check_columns(self._names)
        format_code = BINARY_FORMAT if self.binary else TEXT_FORMAT
        self._encoders = result_encoders(columns, [format_code] * len(columns))
        self._outcome = outcome
        return len(columns)

    async def batches(self) -> AsyncIterator[Sequence[bytes]]:
        assert self._outcome is not None, "start() runs the query"
        rows = self._outcome.rows
        options = self._options
        # Binary: the header goes in front of the first row (or of the trailer), as in
        # PostgreSQL's messages; text and csv: HEADER is a line of its own.
        prefix = HEADER if self.binary else b""
        if options.header and not self.binary:
            header = csv_header if options.csv else text_header
            yield [header(self._names, options)]
        for start in range(0, len(rows), BATCH_ROWS):
            batch = await self._off_loop(partial(self._encode, rows[start : start + BATCH_ROWS]))
            if prefix:
                batch[0] = prefix + batch[0]
                prefix = b""
            yield batch
        if self.binary:
            yield [prefix + TRAILER]

    def _encode(self, rows: Sequence[Sequence[Any]]) -> list[bytes]:
        if self.binary:
            return binary_rows(rows, self._encoders)
        if self._options.csv:
            return csv_rows(rows, self._encoders, self._names, self._options)
        return text_rows(rows, self._encoders, self._options)
