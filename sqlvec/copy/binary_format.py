"""COPY's binary format: the `PGCOPY` header, then per row an int16 field count and each field
as an int32 length (-1 for NULL) and the value in its type's binary (send/recv) form, then an
int16 -1 trailer.

Reading is fast where it matters: when every column has a fixed width (integers, floats, bool,
vector(d)), every row without a NULL has the same length and layout, so runs of rows are read
with one `np.frombuffer` over a structured dtype, checked (field count, lengths, vector
dimensions) with array comparisons and split into column arrays, instead of value by value. A
row that does not fit the layout (a NULL, a wrong length, the trailer) is read by the general
row reader, which also reads everything when some column has a variable width (text).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sqlvec.copy.columns import (
    BadCopyFileFormat,
    ColumnBuffers,
    CopyTarget,
    binary_decoder,
    with_context,
)
from sqlvec.engine.catalog import ColumnSpec
from sqlvec.errors import DataException, SqlvecError
from sqlvec.types import BOOL, FLOAT4, FLOAT8, INT2, INT4, INT8, VECTOR
from sqlvec.wire.codecs import ValueEncoder, encoded_row

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
HEADER = SIGNATURE + struct.pack("!ii", 0, 0)  # no flags, no header extension
TRAILER = struct.pack("!h", -1)
_INT16 = struct.Struct("!h")
_INT32 = struct.Struct("!i")
_FLAGS = struct.Struct("!ii")
_OIDS_FLAG = 1 << 16

# Scalar types of a fixed binary width: (wire dtype, dtype of the decoded array).
_FIXED_SCALARS: dict[int, tuple[str, Any]] = {
    BOOL.oid: ("u1", np.bool_),
    INT2.oid: (">i2", np.int64),
    INT4.oid: (">i4", np.int64),
    INT8.oid: (">i8", np.int64),
    FLOAT4.oid: (">f4", np.float32),
    FLOAT8.oid: (">f8", np.float64),
}
_MIN_RUN = 64  # rows checked by the first bulk attempt after a row that did not fit
_MAX_RUN = 1 << 16


@dataclass(frozen=True)
class _FixedLayout:
    """The byte layout of a row without NULLs when every column has a fixed width."""

    dtype: np.dtype
    lengths: tuple[int, ...]  # each field's length word
    dims: tuple[int | None, ...]  # vector columns' dimension, None for scalars

    @classmethod
    def of(cls, columns: Sequence[ColumnSpec]) -> _FixedLayout | None:
        fields: list[tuple[Any, ...]] = [("count", ">i2")]
        lengths: list[int] = []
        dims: list[int | None] = []
        for index, column in enumerate(columns):
            fields.append((f"length{index}", ">i4"))
            if column.type.oid == VECTOR.oid and column.dim:
                fields += [
                    (f"dim{index}", ">i2"),
                    (f"unused{index}", ">i2"),
                    (f"value{index}", ">f4", (column.dim,)),
                ]
                lengths.append(4 + 4 * column.dim)
                dims.append(column.dim)
            elif column.type.oid in _FIXED_SCALARS:
                wire = np.dtype(_FIXED_SCALARS[column.type.oid][0])
                fields.append((f"value{index}", wire))
                lengths.append(wire.itemsize)
                dims.append(None)
            else:
                return None
        return cls(np.dtype(fields), tuple(lengths), tuple(dims))

    def fitting(self, rows: np.ndarray) -> np.ndarray:
        """Which rows have this layout (field count, lengths, vector dimensions)."""
        ok = rows["count"] == len(self.lengths)
        for index, (length, dim) in enumerate(zip(self.lengths, self.dims, strict=True)):
            ok &= rows[f"length{index}"] == length
            if dim is not None:
                ok &= (rows[f"dim{index}"] == dim) & (rows[f"unused{index}"] == 0)
        return ok


class BinaryReader:
    def __init__(self, target: CopyTarget, buffers: ColumnBuffers) -> None:
        self._target = target
        self._buffers = buffers
        self._columns = target.columns
        self._decoders = [binary_decoder(column) for column in self._columns]
        self._layout = _FixedLayout.of(self._columns)
        self._run = _MIN_RUN
        self._header_read = False
        self.line = 0
        self.ended = False  # the trailer was read

    def feed(self, data: bytes, final: bool) -> bytes:
        """Parse the complete rows of `data`; returns what is left for the next call."""
        position = 0
        if not self._header_read:
            position = self._header(data, final)
            if position < 0:
                return data
        size = len(data)
        while position < size:
            if self.ended:
                raise BadCopyFileFormat("received copy data after EOF marker")
            if self._layout is not None:
                after = self._rows_in_bulk(data, position)
                if after > position:
                    position = after
                    continue
            end = self._row(data, position)
            if end < 0:
                if final:
                    raise BadCopyFileFormat("unexpected EOF in COPY data")
                break
            position = end
        return data[position:]

    def _header(self, data: bytes, final: bool) -> int:
        """Where the rows start, or -1 when the header is not complete yet."""
        fixed = len(SIGNATURE) + _FLAGS.size
        if len(data) < fixed:
            if final:
                raise BadCopyFileFormat("COPY file signature not recognized")
            return -1
        if not data.startswith(SIGNATURE):
            raise BadCopyFileFormat("COPY file signature not recognized")
        flags, extension = _FLAGS.unpack_from(data, len(SIGNATURE))
        if flags & _OIDS_FLAG:
            raise BadCopyFileFormat("invalid COPY file header (WITH OIDS)")
        if flags >> 16:
            raise BadCopyFileFormat("unrecognized critical flags in COPY file header")
        if extension < 0:
            raise BadCopyFileFormat("invalid COPY file header (missing length)")
        if len(data) < fixed + extension:
            if final:
                raise BadCopyFileFormat("invalid COPY file header (wrong length)")
            return -1
        self._header_read = True
        return fixed + extension

    def _rows_in_bulk(self, data: bytes, position: int) -> int:
        """Read the run of rows at `position` that fit the fixed layout; where it ends."""
        assert self._layout is not None
        itemsize = self._layout.dtype.itemsize
        count = min((len(data) - position) // itemsize, self._run)
        if count == 0:
            return position
        rows = np.frombuffer(data, dtype=self._layout.dtype, count=count, offset=position)
        fits = self._layout.fitting(rows)
        good = count if fits.all() else int(np.argmin(fits))
        # Grow the run while rows fit; after one that does not, start small again, so data
        # with many NULLs does not check long runs to take a few rows each time.
        self._run = min(self._run * 4, _MAX_RUN) if good == count else _MIN_RUN
        if good:
            self._take(rows[:good])
        return position + good * itemsize

    def _take(self, rows: np.ndarray) -> None:
        arrays = []
        for index, column in enumerate(self._columns):
            values = rows[f"value{index}"]
            if column.is_vector:
                matrix = values.astype(np.float32)
                self._check_finite(matrix)
                arrays.append(matrix)
            elif column.type.oid == BOOL.oid:
                arrays.append(values != 0)
            else:
                arrays.append(values.astype(_FIXED_SCALARS[column.type.oid][1]))
        self._buffers.add_block(arrays)
        self.line += len(rows)

    def _check_finite(self, matrix: np.ndarray) -> None:
        finite = np.isfinite(matrix).all(axis=1)
        if finite.all():
            return
        row = int(np.argmin(finite))
        kind = "NaN" if np.isnan(matrix[row]).any() else "infinite value"
        raise DataException(
            f"{kind} not allowed in vector",
            context=self._target.line_context(self.line + row + 1),
        )

    def _row(self, data: bytes, position: int) -> int:
        """Read one row at `position` in the general way; where it ends, -1 if incomplete."""
        size = len(data)
        if size - position < _INT16.size:
            return -1
        (count,) = _INT16.unpack_from(data, position)
        position += _INT16.size
        if count == -1:
            self.ended = True
            return position
        line = self.line + 1
        target = self._target
        if count != len(self._columns):
            raise BadCopyFileFormat(
                f"row field count is {count}, expected {len(self._columns)}",
                context=target.line_context(line),
            )
        values: list[Any] = []
        for column, decode in zip(self._columns, self._decoders, strict=True):
            if size - position < _INT32.size:
                return -1
            (length,) = _INT32.unpack_from(data, position)
            position += _INT32.size
            if length == -1:
                if column.not_null:
                    raise target.null_violation(column, line, None)
                values.append(None)
                continue
            if length < 0:
                raise BadCopyFileFormat("invalid field size", context=target.line_context(line))
            if size - position < length:
                return -1
            field = data[position : position + length]
            position += length
            try:
                values.append(decode(field))
            except SqlvecError as error:
                raise with_context(error, target.column_context(line, column, None)) from None
        self._buffers.add_row(values)
        self.line = line
        return position


def binary_rows(rows: Sequence[Sequence[Any]], encoders: Sequence[ValueEncoder]) -> list[bytes]:
    """Rows in binary format, one bytes object per row (no header or trailer)."""
    return [encoded_row(row, encoders) for row in rows]
