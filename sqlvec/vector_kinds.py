"""The four types a collection column can search by distance: pgvector's `vector`, `halfvec`,
`sparsevec`, and Postgres' `bit` (pgvector's binary vectors).

Every vector column is held in memory as an (rows, d) float32 matrix, so the engine's paths
(the in-memory copy, segments, exact search, Faiss indexes) are shared. A kind says how its
values become matrix rows and back, which operators apply to it, and how its dimension errors
read. Values follow sqlvec.types' conventions (float32 arrays, bit strings, SparseValue).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sqlvec import bits, sparse
from sqlvec.errors import DatatypeMismatch, UndefinedFunction
from sqlvec.types import BIT, HALFVEC, SPARSEVEC, VARBIT, VECTOR, PgType
from sqlvec.vectors import (
    MAX_DIM,
    all_finite,
    check_dimension,
    check_same_dimensions,
    checked_halfvec,
    checked_vector,
    parse_vector,
)

FLOAT_METRICS = ("l2", "ip", "cosine", "l1")
BIT_METRICS = ("hamming", "jaccard")
# sparsevec columns are dense in memory (4 d bytes a row): a bound that keeps that sane.
MAX_SPARSE_COLUMN_DIM = 100_000


@dataclass(frozen=True)
class VectorKind:
    pg_type: PgType
    metrics: tuple[str, ...]
    max_column_dim: int
    to_row: Callable[[Any], np.ndarray]  # a value as a float32 matrix row
    from_row: Callable[[np.ndarray], Any]  # a matrix row as a value

    @property
    def name(self) -> str:
        return self.pg_type.name

    def dimension(self, value: Any) -> int:
        return len(value)

    def search_form(self, value: Any, dim: int | None) -> np.ndarray:
        """A query value as a float32 row, checked against the column's dimension."""
        check_same_dimensions(dim or len(value), len(value), self.name)
        return self.to_row(value)

    def check_metric(self, metric: str, operator: str) -> None:
        if metric not in self.metrics:
            raise UndefinedFunction(
                f"operator does not exist: {self.name} {operator} {self.name}",
                hint="No operator matches the given name and argument types.",
            )


def _float_row(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=np.float32)


KINDS: dict[int, VectorKind] = {
    VECTOR.oid: VectorKind(VECTOR, FLOAT_METRICS, MAX_DIM, _float_row, _float_row),
    HALFVEC.oid: VectorKind(HALFVEC, FLOAT_METRICS, MAX_DIM, _float_row, _float_row),
    BIT.oid: VectorKind(BIT, BIT_METRICS, bits.MAX_COLUMN_BITS, bits.to_row, bits.from_row),
    SPARSEVEC.oid: VectorKind(
        SPARSEVEC, FLOAT_METRICS, MAX_SPARSE_COLUMN_DIM, sparse.to_dense, sparse.from_dense
    ),
}


def kind_of(pg_type: PgType) -> VectorKind:
    """The kind of a vector type (varbit values search as bit)."""
    return KINDS[BIT.oid if pg_type.oid == VARBIT.oid else pg_type.oid]


def metric_kind(metric: str) -> VectorKind:
    """The operand type a distance operator implies when nothing else gives one."""
    return KINDS[BIT.oid] if metric in BIT_METRICS else KINDS[VECTOR.oid]


# --- assignment and casts --------------------------------------------------------------------


def coerce_vector_value(
    pg_type: PgType, value: Any, dim: int | None, explicit: bool = False
) -> Any:
    """A value of any vector type (or its text) as `pg_type`, with Postgres' errors.

    `explicit` is a cast (`::bit(8)` pads or truncates; assignment needs the exact length).
    """
    if pg_type.oid == VECTOR.oid:
        return _to_float_vector(value, dim, "vector")
    if pg_type.oid == HALFVEC.oid:
        return _to_float_vector(value, dim, "halfvec")
    if pg_type.oid == SPARSEVEC.oid:
        return _to_sparse(value, dim)
    return _to_bits(value, dim, explicit)


def _to_float_vector(value: Any, dim: int | None, type_name: str) -> np.ndarray:
    if isinstance(value, str):
        return parse_vector(value, dim, type_name)
    if isinstance(value, sparse.SparseValue):
        value = sparse.to_dense(value)
    if type_name == "vector" and isinstance(value, np.ndarray) and value.dtype == np.float32:
        # A decoded parameter, already float32: checked in place (every prepared search's
        # query vector passes here), `checked_vector` words what is wrong.
        size = value.shape[0] if value.ndim == 1 else 0
        if not (0 < size <= MAX_DIM and all_finite(value)):
            value = checked_vector(value)
        check_dimension(len(value), dim)
        return value
    if isinstance(value, np.ndarray | list | tuple):
        array = np.asarray(value, dtype=np.float64)
        if type_name == "halfvec":
            return checked_halfvec(array, dim)
        vector = checked_vector(array)
        check_dimension(len(vector), dim)
        return vector
    raise _mismatch(type_name, value)


def _to_sparse(value: Any, dim: int | None) -> sparse.SparseValue:
    if isinstance(value, str):
        return sparse.parse_sparsevec(value, dim)
    if isinstance(value, sparse.SparseValue):
        check_dimension(value.dim, dim)
        return value
    if isinstance(value, np.ndarray | list | tuple):
        dense = checked_vector(np.asarray(value, dtype=np.float64))
        check_dimension(len(dense), dim)
        return sparse.from_dense(dense)
    raise _mismatch("sparsevec", value)


def _to_bits(value: Any, length: int | None, explicit: bool) -> str:
    if not isinstance(value, str):
        raise _mismatch("bit", value)
    return bits.fit_length(bits.parse_bits(value), length, explicit)


def _mismatch(type_name: str, value: Any) -> DatatypeMismatch:
    kind = "vector" if isinstance(value, np.ndarray) else type(value).__name__
    return DatatypeMismatch(f"column is of type {type_name} but expression is of type {kind}")
