"""Scalar functions sqlvec adds to DuckDB, for what DuckDB's own functions print differently.

Registered on the store's connection, so every cursor (each thread's and each transaction
block's) sees them.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
from duckdb.sqltypes import FLOAT, VARCHAR

from sqlvec.vectors import format_vector

# A vector (FLOAT[]) as pgvector prints it: `[4,4]`, `[1.5,2]`. DuckDB's cast prints
# `[4.0, 4.0]`. The planner calls it for `::text` of a vector (planner.vector_text).
VECTOR_TEXT = "sqlvec_vector_text"


def register_functions(connection: duckdb.DuckDBPyConnection) -> None:
    connection.create_function(VECTOR_TEXT, _vector_text, [duckdb.list_type(FLOAT)], VARCHAR)


def _vector_text(values: list[Any]) -> str:
    return format_vector(np.asarray(values, dtype=np.float32))
