"""Running a LATERAL join of a vector search: one batched search for all outer rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

import numpy as np
import pyarrow as pa

from sqlvec.engine import cancel
from sqlvec.engine.catalog import ColumnSpec
from sqlvec.engine.engine import Engine
from sqlvec.engine.segment_search import SearchResult
from sqlvec.engine.topk import search_request
from sqlvec.engine.vector_index import SearchSettings
from sqlvec.engine.writes import ARROW_TYPES
from sqlvec.errors import FeatureNotSupported
from sqlvec.planner.plans import (
    BatchTopKPlan,
    OutputColumn,
    Params,
    RowsContext,
    VectorTopKPlan,
)
from sqlvec.sparse import format_sparsevec
from sqlvec.types import HALFVEC, INT8, SPARSEVEC, VECTOR
from sqlvec.vector_kinds import kind_of
from sqlvec.vectors import check_same_dimensions

ROW = "__sqlvec_row"
# Search results hold vectors of any length: a list, where a collection stores FLOAT[d].
_ARROW = {**ARROW_TYPES, VECTOR.oid: pa.list_(pa.float32()), HALFVEC.oid: pa.list_(pa.float32())}
_TEXT_FORMS: dict[int, Callable[[Any], str]] = {SPARSEVEC.oid: format_sparsevec}


def execute_batch(
    engine: Engine, plan: BatchTopKPlan, params: Params, settings: SearchSettings
) -> tuple[list[OutputColumn], list[tuple[Any, ...]]]:
    """The statement's columns and rows."""
    outer = engine.run_sql_arrow(plan.outer.sql, plan.outer.bind(params))
    columns = _lateral_columns(engine, plan, params, settings, outer)
    if plan.direct is not None:
        return _described(engine, plan), _composed(plan, plan.direct, outer, columns)
    relations = {"sqlvec_outer": outer, "sqlvec_lateral": _lateral_table(plan, columns)}
    result = engine.run_sql(plan.final.sql, plan.final.bind(params), relations)
    return [OutputColumn(*c) for c in result.columns], result.rows


def describe_batch(engine: Engine, plan: BatchTopKPlan) -> list[OutputColumn]:
    outer = engine.run_sql_arrow(plan.outer_describe, [])
    relations = {"sqlvec_outer": outer, "sqlvec_lateral": _empty_lateral(plan)}
    return [OutputColumn(*c) for c in engine.describe_sql(plan.final_describe, relations)]


def _composed(
    plan: BatchTopKPlan,
    direct: tuple[tuple[bool, str], ...],
    outer: pa.Table,
    columns: list[list[Any]],
) -> list[tuple[Any, ...]]:
    """The statement's rows when it only lists columns of either side: each outer row in
    order followed by its search rows in rank order (a nested loop's order, as in Postgres);
    under LEFT JOIN an outer row without any gets NULLs for the search's columns."""
    names = [c.name for c in plan.inner.projection.columns]
    outer_at: list[int] = columns[0]
    lateral_at: list[int | None] | None = None  # None: every search row, in order
    if plan.keep_unmatched:
        outer_at, lateral_at = _with_unmatched(columns[0], outer.num_rows)
    output = []
    for is_outer, name in direct:
        if is_outer:
            values = outer.column(name).to_pylist()
            output.append([values[row] for row in outer_at])
        else:
            values = columns[1 + names.index(name)]
            if lateral_at is not None:
                values = [None if i is None else values[i] for i in lateral_at]
            output.append(values)
    return list(zip(*output, strict=True))


def _with_unmatched(row_of: list[int], outer_rows: int) -> tuple[list[int], list[int | None]]:
    """(outer row, search row or None) of every output row of a LEFT JOIN; `row_of` (each
    search row's outer row) is ascending."""
    outer_at: list[int] = []
    lateral_at: list[int | None] = []
    i = 0
    for row in range(outer_rows):
        start = i
        while i < len(row_of) and row_of[i] == row:
            i += 1
        if i == start:
            outer_at.append(row)
            lateral_at.append(None)
        else:
            outer_at.extend([row] * (i - start))
            lateral_at.extend(range(start, i))
    return outer_at, lateral_at


# Per engine (several live in one test process), by catalog version and statement.
_DESCRIBED: WeakKeyDictionary[Engine, dict[tuple[int, str, str], list[OutputColumn]]] = (
    WeakKeyDictionary()
)


def _described(engine: Engine, plan: BatchTopKPlan) -> list[OutputColumn]:
    """The statement's columns, asked of DuckDB once per statement and catalog version."""
    known = _DESCRIBED.setdefault(engine, {})
    key = (engine.catalog_version, plan.outer_describe, plan.final_describe)
    columns = known.get(key)
    if columns is None:
        columns = describe_batch(engine, plan)
        if len(known) >= 256:
            known.clear()
        known[key] = columns
    return columns


def _lateral_columns(
    engine: Engine, plan: BatchTopKPlan, params: Params, settings: SearchSettings, outer: pa.Table
) -> list[list[Any]]:
    """The search rows of every outer row: the outer row's number, then the projection's
    columns, one list each (empty lists when no outer row has a vector)."""
    inner = plan.inner
    # An outer row whose vector is NULL gets no search rows (pgvector would return rows in
    # arbitrary order): CROSS JOIN drops it, LEFT JOIN keeps it with NULLs.
    present, queries = _outer_queries(engine, inner, outer.column(plan.outer_vector))
    columns: list[list[Any]] = [[] for _ in range(len(inner.projection.columns) + 1)]
    if not present:
        return columns
    # The search request (LIMIT checks, WHERE candidates, partitions) does not depend on the
    # outer row: it is made once, with the first query vector standing in for all of them.
    request, offset, _ = search_request(
        engine, inner, _with_query(plan, params, queries[0]), settings
    )
    results = engine.search_batch(inner.collection, request, queries)
    if inner.projection.query_free:
        return _projected_at_once(engine, plan, params, present, results, offset)
    for row, query, result in zip(present, queries, results, strict=True):
        cancel.check()  # one outer row's projection at a time: a cancel stops between rows
        context = RowsContext(
            inner.collection,
            result.positions[offset:],
            result.distances[offset:],
            _with_query(plan, params, query),
        )
        if len(context.positions) == 0:
            continue
        columns[0].extend([row] * len(context.positions))
        for index, produce in enumerate(inner.projection.producers, start=1):
            columns[index].extend(produce(engine, context))
    return columns


def _projected_at_once(
    engine: Engine,
    plan: BatchTopKPlan,
    params: Params,
    present: list[int],
    results: list[SearchResult],
    offset: int,
) -> list[list[Any]]:
    """`_lateral_columns` for a projection that does not read the query vector: every
    search's rows in one context, each output produced once for all of them."""
    cancel.check()
    positions = [result.positions[offset:] for result in results]
    counts = [len(p) for p in positions]
    context = RowsContext(
        plan.inner.collection,
        np.concatenate(positions) if positions else np.empty(0, np.int64),
        np.concatenate([result.distances[offset:] for result in results]),
        params,
    )
    columns: list[list[Any]] = [np.repeat(present, counts).tolist()]
    if len(context.positions) == 0:
        return columns + [[] for _ in plan.inner.projection.producers]
    columns += [produce(engine, context) for produce in plan.inner.projection.producers]
    return columns


def _outer_queries(
    engine: Engine, inner: VectorTopKPlan, column: pa.ChunkedArray
) -> tuple[list[int], np.ndarray]:
    """The outer rows that have a vector, and their vectors as one float32 matrix."""
    array = column.combine_chunks()
    present = np.flatnonzero(array.is_valid().to_numpy(zero_copy_only=False)).tolist()
    if not present:
        return [], np.empty((0, 0), np.float32)
    spec = _searched_column(engine, inner)
    matrix = _float_matrix(array)
    if matrix is None:  # not a list of floats of one length: value by value, with checks
        vectors = array.to_pylist()
        return present, _query_matrix(spec, [vectors[i] for i in present])
    check_same_dimensions(spec.dim or matrix.shape[1], matrix.shape[1], spec.type.name)
    return present, matrix


def _searched_column(engine: Engine, inner: VectorTopKPlan) -> ColumnSpec:
    column = engine.spec(inner.collection).column(inner.column)
    if column.type.oid not in (VECTOR.oid, HALFVEC.oid):
        raise FeatureNotSupported(
            f"LATERAL vector searches over {column.type.name} columns are not supported yet"
        )
    return column


def _float_matrix(array: pa.Array) -> np.ndarray | None:
    """The non-NULL vectors of a list-of-float array as a matrix, without a Python object
    per element (1000 outer rows of 384 floats: 384000 of them); None for other shapes."""
    if not (pa.types.is_list(array.type) or pa.types.is_fixed_size_list(array.type)):
        return None
    if not pa.types.is_floating(array.type.value_type):
        return None
    valid = array.drop_null()
    if len(valid) == 0:
        return np.empty((0, 0), np.float32)
    if pa.types.is_list(valid.type):
        lengths = np.diff(valid.offsets.to_numpy())
        if lengths.min() != lengths.max() or valid.values.null_count:
            return None
    elif valid.values.null_count:
        return None
    flat = valid.flatten().to_numpy(zero_copy_only=False)
    return np.ascontiguousarray(flat.reshape(len(valid), -1), dtype=np.float32)


def _query_matrix(column: ColumnSpec, vectors: list[Any]) -> np.ndarray:
    """The outer rows' vectors as one float32 matrix, each checked against the column."""
    kind = kind_of(column.type)
    # Without a declared dimension the first vector sets it (`different vector dimensions`).
    dim = column.dim or len(vectors[0])
    return np.array([kind.search_form(v, dim) for v in vectors], dtype=np.float32)


def _with_query(plan: BatchTopKPlan, params: Params, query: np.ndarray) -> list[Any]:
    row_params = list(params) + [None] * (plan.query_param + 1 - len(params))
    row_params[plan.query_param] = query
    return row_params


def _lateral_table(plan: BatchTopKPlan, columns: list[list[Any]]) -> pa.Table:
    return _table([OutputColumn(ROW, INT8), *plan.inner.projection.columns], columns)


def search_table(search: VectorTopKPlan, rows: list[tuple[Any, ...]]) -> pa.Table:
    """A top-k search's rows, nearest first, as the relation a statement around it reads."""
    outputs = search.projection.columns
    columns = [list(values) for values in zip(*rows, strict=True)] if rows else []
    return _table(list(outputs), columns or [[] for _ in outputs])


def _table(outputs: list[OutputColumn], columns: list[list[Any]]) -> pa.Table:
    arrays = [_array(output, values) for output, values in zip(outputs, columns, strict=True)]
    return pa.table(arrays, names=[c.name for c in outputs])


def _array(output: OutputColumn, values: list[Any]) -> pa.Array:
    kind = _ARROW.get(output.type.oid)
    if kind is None:  # text, varchar, and the types DuckDB reads as their text form
        text_of = _TEXT_FORMS.get(output.type.oid, str)
        return pa.array([None if v is None else text_of(v) for v in values], type=pa.string())
    return pa.array(values if _all_plain(values) else [_plain(v) for v in values], type=kind)


def _empty_lateral(plan: BatchTopKPlan) -> pa.Table:
    return _lateral_table(plan, [[] for _ in range(len(plan.inner.projection.columns) + 1)])


def _all_plain(values: list[Any]) -> bool:
    """Whether a column holds no numpy values (producers give one kind per column)."""
    first = next((v for v in values if v is not None), None)
    return not isinstance(first, np.ndarray | np.generic)


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
