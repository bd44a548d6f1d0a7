"""DuckDB result types as Postgres types, and DuckDB values as the wire layer's Python values."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np

from sqlvec.sparse import SparseValue
from sqlvec.types import (
    ARRAY_TYPES,
    BIT,
    BOOL,
    CHAR,
    FLOAT4,
    FLOAT8,
    HALFVEC,
    INT2,
    INT2VECTOR,
    INT4,
    INT8,
    JSON,
    OID,
    OIDVECTOR,
    SPARSEVEC,
    TEXT,
    VECTOR,
    PgType,
)

_FIXED = {
    "BOOLEAN": BOOL,
    "TINYINT": INT2,
    "SMALLINT": INT2,
    "UTINYINT": INT2,
    "INTEGER": INT4,
    "USMALLINT": INT4,
    "BIGINT": INT8,
    "UINTEGER": OID,  # DuckDB's type for oid columns (the emulated pg_catalog's)
    "FLOAT": FLOAT4,
    "DOUBLE": FLOAT8,
    "VARCHAR": TEXT,
    "JSON": JSON,  # its values are str already: PostgreSQL's text form, in either format
}
# The emulated pg_catalog's int2vector and oidvector columns (pg_index.indkey, indclass).
_VECTOR_LISTS = {INT2VECTOR.duckdb: INT2VECTOR, OIDVECTOR.duckdb: OIDVECTOR}
_FLOAT_ARRAY = re.compile(r"FLOAT\[(\d+)\]")
_DOUBLE_ARRAY = re.compile(r"DOUBLE\[(\d+)\]")
_VECTOR_TYPES = {BIT.duckdb: BIT, SPARSEVEC.duckdb: SPARSEVEC}
# DuckDB lists (`BIGINT[]`) as Postgres arrays; fixed-size FLOAT[d] arrays are vectors.
_ARRAYS = {t.element_oid: t for t in ARRAY_TYPES}


def pg_type_of(duckdb_type: str) -> tuple[PgType, int]:
    """(Postgres type, typmod) for a DuckDB column type; FLOAT[d] is pgvector's vector(d)."""
    if duckdb_type in _FIXED:
        return _FIXED[duckdb_type], -1
    if duckdb_type.startswith("ENUM("):
        return CHAR, -1  # only the emulated pg_catalog's "char" columns are enums
    if duckdb_type in _VECTOR_LISTS:
        return _VECTOR_LISTS[duckdb_type], -1
    match = _FLOAT_ARRAY.fullmatch(duckdb_type)
    if match:
        return VECTOR, int(match.group(1))
    match = _DOUBLE_ARRAY.fullmatch(duckdb_type)
    if match:
        return HALFVEC, int(match.group(1))  # only halfvec columns are stored as DOUBLE[d]
    if duckdb_type in _VECTOR_TYPES:
        return _VECTOR_TYPES[duckdb_type], -1
    if duckdb_type == "FLOAT[]":
        return VECTOR, -1  # vector expressions rewritten for DuckDB are FLOAT[] lists
    if duckdb_type.endswith("[]") and duckdb_type[:-2] in _FIXED:
        return _ARRAYS.get(_FIXED[duckdb_type[:-2]].oid, TEXT), -1
    if duckdb_type.startswith("DECIMAL") or duckdb_type in ("HUGEINT", "UBIGINT"):
        # No numeric codec yet: exact decimals travel as text, as Postgres' text format would.
        return TEXT, -1
    return TEXT, -1


def value_converter(pg_type: PgType) -> Callable[[Any], Any]:
    """Convert a DuckDB Python value to the Python value the wire codec for pg_type expects."""
    if pg_type.oid in (VECTOR.oid, HALFVEC.oid):
        return lambda value: None if value is None else np.asarray(value, dtype=np.float32)
    if pg_type.oid == SPARSEVEC.oid:
        return _as_sparse
    if pg_type.oid == TEXT.oid:
        return _as_text
    if pg_type in (INT2VECTOR, OIDVECTOR):
        return lambda value: None if value is None else " ".join(str(v) for v in value)
    return unchanged


def _as_sparse(value: Any) -> SparseValue | None:
    if value is None:
        return None
    return SparseValue(
        value["sparsevec_dim"],
        np.asarray(value["indices"], dtype=np.int32),
        np.asarray(value["values"], dtype=np.float32),
    )


def unchanged(value: Any) -> Any:
    """The converter of types whose DuckDB values are already what the wire layer expects."""
    return value


def _as_text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)
