"""What the COPY FROM readers share: the target columns, value decoders, where-in-the-input error
context, and the column-major buffers rows accumulate in until the one insert at CopyDone."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sqlvec.engine.catalog import ColumnSpec
from sqlvec.engine.coerce import length_check
from sqlvec.errors import (
    InvalidBinaryRepresentation,
    NotNullViolation,
    SqlvecError,
)
from sqlvec.types import INTEGER_TYPES
from sqlvec.vector_kinds import coerce_vector_value, kind_of
from sqlvec.wire.codecs import BINARY_FORMAT, TEXT_FORMAT, decode_parameter

# Postgres shows at most this many bytes of a line or value in an error's CONTEXT.
MAX_SHOWN = 100

Decoder = Callable[[bytes], Any]


class BadCopyFileFormat(SqlvecError):
    sqlstate = "22P04"


@dataclass(frozen=True)
class CopyTarget:
    """The collection and the columns a COPY FROM fills, in the order of the data."""

    table: str
    columns: tuple[ColumnSpec, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def line_context(self, line: int, raw: bytes | None = None) -> str:
        shown = f': "{shown_text(raw)}"' if raw is not None else ""
        return f"COPY {self.table}, line {line}{shown}"

    def column_context(self, line: int, column: ColumnSpec, value: bytes | None) -> str:
        shown = f': "{shown_text(value)}"' if value is not None else ""
        return f"COPY {self.table}, line {line}, column {column.name}{shown}"

    def null_violation(self, column: ColumnSpec, line: int, raw: bytes | None) -> NotNullViolation:
        return NotNullViolation(
            f'null value in column "{column.name}" of relation "{self.table}" violates '
            "not-null constraint",
            context=self.line_context(line, raw),
        )


def shown_text(data: bytes) -> str:
    text = data[:MAX_SHOWN].decode(errors="replace")
    return text + "..." if len(data) > MAX_SHOWN else text


def with_context(error: SqlvecError, context: str) -> SqlvecError:
    if not error.context:
        error.context = context
    return error


def text_decoder(column: ColumnSpec) -> Decoder:
    """A value in text form (text and csv formats) as the column's Python value."""
    pgtype = column.type
    if column.is_vector:
        dim = column.dim

        def vector(data: bytes) -> Any:
            value = decode_parameter(data, pgtype, TEXT_FORMAT, 0)
            return coerce_vector_value(pgtype, value, dim)

        return vector
    return _length_checked(column, lambda data: decode_parameter(data, pgtype, TEXT_FORMAT, 0))


def binary_decoder(column: ColumnSpec) -> Decoder:
    """A value in binary form (the type's send/recv form) as the column's Python value."""
    pgtype = column.type
    is_vector = column.is_vector

    def decode(data: bytes) -> Any:
        try:
            value = decode_parameter(data, pgtype, BINARY_FORMAT, 0)
        except InvalidBinaryRepresentation:
            raise InvalidBinaryRepresentation("incorrect binary data format") from None
        if is_vector and value is not None:
            return coerce_vector_value(pgtype, value, column.dim)
        return value

    return _length_checked(column, decode)


def _length_checked(column: ColumnSpec, decode: Decoder) -> Decoder:
    """varchar(n): a longer value is 22001, as an INSERT of it is."""
    if column.max_length is None:
        return decode
    fit = length_check(column.max_length)
    return lambda data: fit(decode(data))


class ColumnBuffers:
    """Rows collected column by column: single rows (lists) and blocks (numpy arrays) in order.

    Vector columns end as one (n, d) float32 matrix; an integer column as an int64 array when
    no value is NULL; other columns as lists.
    """

    def __init__(self, columns: Sequence[ColumnSpec]) -> None:
        self._columns = tuple(columns)
        self._blocks: list[list[Any]] = [[] for _ in self._columns]
        self._pending: list[list[Any]] = [[] for _ in self._columns]
        self.count = 0

    def add_row(self, values: Sequence[Any]) -> None:
        for pending, value in zip(self._pending, values, strict=True):
            pending.append(value)
        self.count += 1

    def add_block(self, arrays: Sequence[np.ndarray]) -> None:
        """Rows decoded in bulk: one array per column, all of the same length."""
        self.flush()
        for blocks, array in zip(self._blocks, arrays, strict=True):
            blocks.append(array)
        self.count += len(arrays[0])

    def values(self) -> dict[str, Any]:
        """Every column's values, ready for `Engine.insert_columns`."""
        self.flush()
        result: dict[str, Any] = {}
        for column, blocks in zip(self._columns, self._blocks, strict=True):
            result[column.name] = _joined(column, blocks)
        return result

    def flush(self) -> None:
        """Turn the single rows collected so far into a block: vectors into one matrix and
        integers into an array, much smaller than as Python objects."""
        if not self._pending[0]:
            return
        for column, blocks, pending in zip(self._columns, self._blocks, self._pending, strict=True):
            if column.is_vector:
                to_row = kind_of(column.type).to_row
                blocks.append(np.stack([to_row(value) for value in pending]))
            elif column.type.oid in INTEGER_TYPES and None not in pending:
                blocks.append(np.array(pending, dtype=np.int64))
            else:
                blocks.append(list(pending))
            pending.clear()


def _joined(column: ColumnSpec, blocks: list[Any]) -> Any:
    if column.is_vector:
        if not blocks:
            return np.zeros((0, column.dim or 0), dtype=np.float32)
        return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)
    if column.type.oid in INTEGER_TYPES and all(
        isinstance(b, np.ndarray) or None not in b for b in blocks
    ):
        arrays = [np.asarray(b, dtype=np.int64) for b in blocks]
        return np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)
    joined: list[Any] = []
    for block in blocks:
        joined.extend(block.tolist() if isinstance(block, np.ndarray) else block)
    return joined
