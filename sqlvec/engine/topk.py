"""Running a vector search plan: the engine request it makes, and its rows."""

from __future__ import annotations

from typing import Any

import numpy as np

from sqlvec.engine.engine import Engine
from sqlvec.engine.outcome import Outcome
from sqlvec.engine.partition_key import searched_partitions
from sqlvec.engine.row_filter import matching_positions
from sqlvec.engine.segment_search import SearchRequest
from sqlvec.engine.vector_index import SearchSettings
from sqlvec.errors import CardinalityViolation, InvalidParameterValue, Notice, SqlvecError
from sqlvec.planner.plans import Params, ResultProjection, RowsContext, VectorTopKPlan
from sqlvec.vector_kinds import kind_of

MAX_TOP_K = 16384  # Milvus' limit on top-k


class LimitError(SqlvecError):
    sqlstate = "2201W"


class OffsetError(SqlvecError):
    sqlstate = "2201X"


def run_topk(
    engine: Engine, plan: VectorTopKPlan, params: Params, settings: SearchSettings
) -> Outcome:
    request, offset, limit = search_request(engine, plan, params, settings)
    result = engine.search(plan.collection, request)
    positions, distances = result.positions[offset:], result.distances[offset:]
    context = RowsContext(plan.collection, positions, distances, params)
    rows = project(engine, plan.projection, context)
    notices = [Notice(message) for message in result.notices] if limit else []
    return Outcome(f"SELECT {len(rows)}", list(plan.projection.columns), rows, notices)


def search_request(
    engine: Engine, plan: VectorTopKPlan, params: Params, settings: SearchSettings
) -> tuple[SearchRequest, int, int | None]:
    """The engine search a plan asks for with these parameters: (request, OFFSET, LIMIT)."""
    query = plan.query(params) if plan.query_sql is None else _stored_vector(engine, plan, params)
    if query is None:
        # ORDER BY a NULL distance: every row ties; Postgres returns rows in scan order.
        raise InvalidParameterValue("the query vector of a vector search must not be NULL")
    column = engine.spec(plan.collection).column(plan.column)
    query = kind_of(column.type).search_form(query, column.dim)
    limit = _non_negative(plan.limit, params, LimitError, "LIMIT")
    if limit is not None and limit > MAX_TOP_K:
        raise InvalidParameterValue(
            f"LIMIT {limit} is out of range for a vector search",
            detail=f"Valid values are between 1 and {MAX_TOP_K}.",
        )
    offset = _non_negative(plan.offset, params, OffsetError, "OFFSET") or 0
    candidates = _filtered_positions(engine, plan, params)
    total = engine.row_count(plan.collection) if candidates is None else len(candidates)
    k = total if limit is None else limit + offset
    request = SearchRequest(
        plan.column,
        query,
        k,
        plan.metric,
        descending=plan.descending,
        candidates=candidates,
        partitions=searched_partitions(engine, plan, params),
        settings=settings,
    )
    return request, offset, limit


def _stored_vector(engine: Engine, plan: VectorTopKPlan, params: Params) -> np.ndarray | None:
    """The value of the scalar subquery that gives the query vector (None when no row)."""
    assert plan.query_sql is not None
    rows = engine.run_sql(plan.query_sql.sql, plan.query_sql.bind(params)).rows
    if len(rows) > 1:
        raise CardinalityViolation("more than one row returned by a subquery used as an expression")
    return rows[0][0] if rows else None


def _filtered_positions(engine: Engine, plan: VectorTopKPlan, params: Params) -> np.ndarray | None:
    """Positions of the rows the WHERE clause allows: evaluated over the in-memory columns
    when the planner could compile it, else ids from DuckDB (in bulk through Arrow)."""
    if plan.filter is None:
        return None
    if plan.row_filter is not None:
        rows = engine.collection(plan.collection).rows
        return matching_positions(rows, plan.row_filter, params, len(rows))
    table = engine.run_sql_arrow(plan.filter.sql, plan.filter.bind(params))
    ids = table.column(0).to_numpy(zero_copy_only=False)
    return engine.positions_of(plan.collection, ids)


def _non_negative(
    evaluator: Any, params: Params, error: type[SqlvecError], what: str
) -> int | None:
    if evaluator is None:
        return None
    value = evaluator(params)
    if value is None:
        return None
    if value < 0:
        raise error(f"{what} must not be negative")
    return int(value)


def project(
    engine: Any, projection: ResultProjection, context: RowsContext
) -> list[tuple[Any, ...]]:
    """The projection's rows; `engine` is the Engine, or what has its `take` and `distances`."""
    if len(context.positions) == 0:
        return []
    columns = [produce(engine, context) for produce in projection.producers]
    return list(zip(*columns, strict=True))
