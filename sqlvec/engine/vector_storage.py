"""Vector columns between the in-memory float32 matrix and their DuckDB column type.

Each kind has its own DuckDB type (see ColumnSpec.duckdb_type) so that scalar queries read the
stored values as their Postgres type: vector FLOAT[d], halfvec DOUBLE[d], bit BIT, sparsevec a
struct. Inserts and the load at start-up convert here, in bulk where the type allows.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sqlvec import bits, sparse
from sqlvec.engine.catalog import ColumnSpec
from sqlvec.engine.store import quote_identifier, vectors_from_arrow
from sqlvec.types import BIT, HALFVEC, SPARSEVEC

_SPARSE_ARROW = pa.struct(
    [
        ("sparsevec_dim", pa.int32()),
        ("indices", pa.list_(pa.int32())),
        ("values", pa.list_(pa.float32())),
    ]
)


def to_arrow(column: ColumnSpec, matrix: np.ndarray) -> pa.Array:
    """An (n, d) float32 matrix as the Arrow array DuckDB stores in the column's type."""
    oid = column.type.oid
    if oid == BIT.oid:
        return pa.array([bits.from_row(row) for row in matrix], type=pa.string())
    if oid == SPARSEVEC.oid:
        return pa.array([_sparse_record(row) for row in matrix], type=_SPARSE_ARROW)
    dtype = np.float64 if oid == HALFVEC.oid else np.float32
    flat = np.ascontiguousarray(matrix, dtype=dtype).reshape(-1)
    return pa.FixedSizeListArray.from_arrays(pa.array(flat), column.dim)


def _sparse_record(row: np.ndarray) -> dict[str, object]:
    value = sparse.from_dense(row)
    return {"sparsevec_dim": value.dim, "indices": value.indices, "values": value.values}


def select_expression(column: ColumnSpec) -> str:
    """The column in the SELECT that loads a collection (BIT arrives in Arrow as raw bytes)."""
    name = quote_identifier(column.name)
    return f"CAST({name} AS VARCHAR) AS {name}" if column.type.oid == BIT.oid else name


def from_arrow(column: ColumnSpec, values: pa.ChunkedArray) -> np.ndarray:
    """A loaded column as the (n, d) float32 matrix the in-memory copy holds."""
    dim = column.dim or 0
    oid = column.type.oid
    if oid == BIT.oid:
        rows = [bits.to_row(text) for text in values.to_pylist()]
        return np.stack(rows) if rows else np.zeros((0, dim), np.float32)
    if oid == SPARSEVEC.oid:
        matrix = np.zeros((len(values), dim), dtype=np.float32)
        for position, record in enumerate(values.to_pylist()):
            matrix[position, record["indices"]] = record["values"]
        return matrix
    return vectors_from_arrow(values, dim)
