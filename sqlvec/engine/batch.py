"""Running a LATERAL join of a vector search: one batched search for all outer rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from sqlvec.engine import cancel
from sqlvec.engine.engine import Engine
from sqlvec.engine.segment_search import SearchRequest
from sqlvec.engine.vector_index import SearchSettings
from sqlvec.engine.writes import ARROW_TYPES
from sqlvec.errors import FeatureNotSupported
from sqlvec.planner.plans import BatchTopKPlan, OutputColumn, Params, RowsContext
from sqlvec.types import HALFVEC, VECTOR
from sqlvec.vectors import check_same_dimensions

ROW = "__sqlvec_row"
# Search results hold vectors of any length: a list, where a collection stores FLOAT[d].
_ARROW = {**ARROW_TYPES, VECTOR.oid: pa.list_(pa.float32())}


def execute_batch(
    engine: Engine, plan: BatchTopKPlan, params: Params, settings: SearchSettings
) -> tuple[list[OutputColumn], list[tuple[Any, ...]]]:
    """The statement's columns and rows."""
    outer = engine.run_sql_arrow(plan.outer.sql, plan.outer.bind(params))
    lateral = _lateral_rows(engine, plan, params, settings, outer)
    relations = {"sqlvec_outer": outer, "sqlvec_lateral": lateral}
    result = engine.run_sql(plan.final.sql, plan.final.bind(params), relations)
    return [OutputColumn(*c) for c in result.columns], result.rows


def describe_batch(engine: Engine, plan: BatchTopKPlan) -> list[OutputColumn]:
    outer = engine.run_sql_arrow(plan.outer_describe, [])
    relations = {"sqlvec_outer": outer, "sqlvec_lateral": _empty_lateral(plan)}
    return [OutputColumn(*c) for c in engine.describe_sql(plan.final_describe, relations)]


def _lateral_rows(
    engine: Engine, plan: BatchTopKPlan, params: Params, settings: SearchSettings, outer: pa.Table
) -> pa.Table:
    inner = plan.inner
    vectors = outer.column(plan.outer_vector).to_pylist()
    present = [i for i, v in enumerate(vectors) if v is not None]
    if not present:
        return _empty_lateral(plan)
    column = engine.spec(inner.collection).column(inner.column)
    if column.type.oid not in (VECTOR.oid, HALFVEC.oid):
        raise FeatureNotSupported(
            f"LATERAL vector searches over {column.type.name} columns are not supported yet"
        )
    queries = np.array([vectors[i] for i in present], dtype=np.float32)
    check_same_dimensions(column.dim or queries.shape[1], queries.shape[1], column.type.name)
    limit = inner.limit(params) if inner.limit is not None else None
    offset = (inner.offset(params) if inner.offset is not None else None) or 0
    k = (limit if limit is not None else engine.row_count(inner.collection)) + offset
    request = SearchRequest(
        inner.column,
        queries[0],
        k,
        inner.metric,
        partitions=list(inner.partitions) if inner.partitions is not None else None,
        settings=settings,
    )
    results = engine.search_batch(inner.collection, request, queries)
    columns: list[list[Any]] = [[] for _ in range(len(inner.projection.columns) + 1)]
    for row, query, result in zip(present, queries, results, strict=True):
        cancel.check()  # one outer row's projection at a time: a cancel stops between rows
        row_params = list(params) + [None] * (plan.query_param + 1 - len(params))
        row_params[plan.query_param] = query
        context = RowsContext(
            inner.collection, result.positions[offset:], result.distances[offset:], row_params
        )
        if len(context.positions) == 0:
            continue
        columns[0].extend([row] * len(context.positions))
        for index, produce in enumerate(inner.projection.producers, start=1):
            columns[index].extend(produce(engine, context))
    return _lateral_table(plan, columns)


def _lateral_table(plan: BatchTopKPlan, columns: list[list[Any]]) -> pa.Table:
    names = [ROW, *(c.name for c in plan.inner.projection.columns)]
    types = [
        pa.int64(),
        *(_ARROW.get(c.type.oid, pa.string()) for c in plan.inner.projection.columns),
    ]
    arrays = [
        pa.array(values if _all_plain(values) else [_plain(v) for v in values], type=kind)
        for values, kind in zip(columns, types, strict=True)
    ]
    return pa.table(arrays, names=names)


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
