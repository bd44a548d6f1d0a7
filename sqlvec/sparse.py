"""pgvector's `sparsevec` value semantics: text form `{1:1.5,3:2}/5`, checks, messages.

A value is a `SparseValue`: the dimension and the non-zero elements (0-based indices, ascending;
the text form counts from 1). A collection's `sparsevec(d)` column is held in memory as a dense
(rows, d) float32 matrix, so that search shares the vector paths; it is searched exactly.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

import numpy as np

from sqlvec.errors import (
    DataException,
    InvalidBinaryRepresentation,
    InvalidTextRepresentation,
    ProgramLimitExceeded,
)
from sqlvec.floats import float4_text
from sqlvec.vectors import check_dimension

MAX_DIM = 1_000_000_000  # pgvector's SPARSEVEC_MAX_DIM
MAX_NNZ = 16000  # pgvector's SPARSEVEC_MAX_NNZ
_TEXT = re.compile(r"\s*\{(.*)\}\s*/\s*([+-]?\d+)\s*", re.DOTALL)
_ELEMENT = re.compile(r"\s*([+-]?\d+)\s*:\s*(\S+?)\s*")
_HEADER = struct.Struct("!iii")  # dim, nnz, unused


@dataclass(frozen=True, eq=False)
class SparseValue:
    dim: int
    indices: np.ndarray  # int32, 0-based, strictly ascending
    values: np.ndarray  # float32, non-zero

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SparseValue):
            return NotImplemented
        return (
            self.dim == other.dim
            and np.array_equal(self.indices, other.indices)
            and np.array_equal(self.values, other.values)
        )

    def __len__(self) -> int:
        return self.dim


def parse_sparsevec(text: str, expected_dim: int | None = None) -> SparseValue:
    """sparsevec_in, with pgvector's errors; zero elements are dropped, as pgvector does."""
    match = _TEXT.fullmatch(text)
    if match is None:
        detail = None if text.lstrip().startswith("{") else 'Vector contents must start with "{".'
        raise InvalidTextRepresentation(
            f'invalid input syntax for type sparsevec: "{text}"', detail=detail
        )
    body, dim_text = match.groups()
    pairs = [] if not body.strip() else [_element(part, text) for part in body.split(",")]
    indices = np.array([index - 1 for index, _ in pairs], dtype=np.int64)
    values = np.array([value for _, value in pairs], dtype=np.float64)
    return checked_sparse(int(dim_text), indices, values, expected_dim, sort=True)


def _element(part: str, text: str) -> tuple[int, float]:
    match = _ELEMENT.fullmatch(part)
    if match is None:
        raise InvalidTextRepresentation(f'invalid input syntax for type sparsevec: "{text}"')
    try:
        return int(match.group(1)), float(match.group(2))
    except ValueError:
        raise InvalidTextRepresentation(
            f'invalid input syntax for type sparsevec: "{text}"'
        ) from None


def checked_sparse(
    dim: int,
    indices: np.ndarray,
    values: np.ndarray,
    expected_dim: int | None = None,
    sort: bool = False,
) -> SparseValue:
    if dim < 1:
        raise DataException("sparsevec must have at least 1 dimension")
    if dim > MAX_DIM:
        raise ProgramLimitExceeded(f"sparsevec cannot have more than {MAX_DIM} dimensions")
    if len(indices) > MAX_NNZ:
        raise ProgramLimitExceeded(f"sparsevec cannot have more than {MAX_NNZ} non-zero elements")
    if not np.isfinite(values).all():
        if np.isnan(values).any():
            raise DataException("NaN not allowed in sparsevec")
        raise DataException("infinite value not allowed in sparsevec")
    if sort:
        order = np.argsort(indices, kind="stable")
        indices, values = indices[order], values[order]
    _check_indices(indices, dim)
    check_dimension(dim, expected_dim)
    as_float = values.astype(np.float32)
    keep = as_float != 0
    return SparseValue(dim, indices[keep].astype(np.int32), as_float[keep])


def _check_indices(indices: np.ndarray, dim: int) -> None:
    if len(indices) == 0:
        return
    if indices.min() < 0:
        raise DataException("index must be greater than zero")
    if indices.max() >= dim:
        raise DataException("index must be less than or equal to dimensions")
    steps = np.diff(indices)
    if (steps == 0).any():
        raise DataException("indexes must not contain duplicates")
    if (steps < 0).any():
        raise DataException("indexes must be in ascending order")


def format_sparsevec(value: SparseValue) -> str:
    elements = ",".join(
        f"{index + 1}:{float4_text(v)}"
        for index, v in zip(value.indices.tolist(), value.values, strict=True)
    )
    return f"{{{elements}}}/{value.dim}"


def encode_binary(value: SparseValue) -> bytes:
    """sparsevec_send: int32 dim, nnz, unused (0), int32 indices (0-based), float4 values."""
    header = _HEADER.pack(value.dim, len(value.indices), 0)
    return header + value.indices.astype(">i4").tobytes() + value.values.astype(">f4").tobytes()


def decode_binary(data: bytes) -> SparseValue:
    if len(data) < _HEADER.size:
        raise InvalidBinaryRepresentation("insufficient data left in message")
    dim, nnz, unused = _HEADER.unpack_from(data)
    if unused != 0:
        raise DataException(f"expected unused to be 0, not {unused}")
    if nnz < 0 or len(data) != _HEADER.size + 8 * nnz:
        raise InvalidBinaryRepresentation("insufficient data left in message")
    indices = np.frombuffer(data, dtype=">i4", count=nnz, offset=_HEADER.size).astype(np.int64)
    values = np.frombuffer(data, dtype=">f4", count=nnz, offset=_HEADER.size + 4 * nnz)
    return checked_sparse(dim, indices, values.astype(np.float64))


def to_dense(value: SparseValue) -> np.ndarray:
    row = np.zeros(value.dim, dtype=np.float32)
    row[value.indices] = value.values
    return row


def from_dense(row: np.ndarray) -> SparseValue:
    indices = np.flatnonzero(row)
    return SparseValue(len(row), indices.astype(np.int32), np.asarray(row, np.float32)[indices])


def sparse_distance(a: SparseValue, b: SparseValue, metric: str) -> float:
    """A distance between two sparse values without making them dense (dimensions may be up
    to a billion), as pgvector computes it over the non-zero elements."""
    ids = np.union1d(a.indices, b.indices)
    x = np.zeros(len(ids), np.float64)
    y = np.zeros(len(ids), np.float64)
    x[np.searchsorted(ids, a.indices)] = a.values
    y[np.searchsorted(ids, b.indices)] = b.values
    if metric == "l2":
        return float(np.sqrt(((x - y) ** 2).sum()))
    if metric == "ip":
        return float(-(x @ y))
    if metric == "l1":
        return float(np.abs(x - y).sum())
    norms = float(np.linalg.norm(x) * np.linalg.norm(y))
    if norms == 0:
        return float("nan")
    return 1.0 - max(-1.0, min(1.0, float(x @ y) / norms))
