"""Runs physical plans against the engine. Called on a worker thread, never the event loop."""

from __future__ import annotations

from typing import Any

import numpy as np

from sqlvec.engine.administration import execute_administration, stats_relations
from sqlvec.engine.batch import describe_batch, execute_batch
from sqlvec.engine.engine import Engine
from sqlvec.engine.outcome import Outcome
from sqlvec.engine.segment_search import SearchRequest
from sqlvec.engine.vector_index import SearchSettings
from sqlvec.errors import CardinalityViolation, InvalidParameterValue, Notice, SqlvecError
from sqlvec.planner.plans import (
    AnalyzePlan,
    BatchTopKPlan,
    ConstantPlan,
    CreateCollectionPlan,
    DropCollectionPlan,
    DuckPlan,
    InsertPlan,
    OutputColumn,
    Params,
    ResultProjection,
    RowsContext,
    ShowCollectionsPlan,
    ShowPartitionsPlan,
    VectorTopKPlan,
)
from sqlvec.vectors import check_same_dimensions

MAX_TOP_K = 16384  # Milvus' limit on top-k


class LimitError(SqlvecError):
    sqlstate = "2201W"


class OffsetError(SqlvecError):
    sqlstate = "2201X"


def execute(
    engine: Engine, node: object, params: Params, settings: SearchSettings | None = None
) -> Outcome:
    if isinstance(node, VectorTopKPlan):
        return _topk(engine, node, params, settings or SearchSettings())
    if isinstance(node, BatchTopKPlan):
        columns, rows = execute_batch(engine, node, params, settings or SearchSettings())
        return Outcome(f"SELECT {len(rows)}", columns, rows)
    if isinstance(node, DuckPlan):
        return _duck(engine, node, params)
    if isinstance(node, InsertPlan):
        return _insert(engine, node, params)
    if isinstance(node, ConstantPlan):
        row = tuple(value(params) for value in node.values)
        return Outcome("SELECT 1", list(node.columns), [row])
    if isinstance(node, CreateCollectionPlan):
        return _create(engine, node)
    if isinstance(node, DropCollectionPlan):
        return _drop(engine, node)
    if isinstance(node, ShowCollectionsPlan):
        rows = [(name,) for name in engine.collection_names()]
        return Outcome(f"SELECT {len(rows)}", list(node.columns), rows)
    return execute_administration(engine, node, params)


def describe(engine: Engine, node: object) -> list[OutputColumn] | None:
    """Result columns of a plan, without running it (Describe before Bind)."""
    if isinstance(node, VectorTopKPlan):
        return list(node.projection.columns)
    if isinstance(node, InsertPlan):
        return list(node.returning.columns) if node.returning else None
    if isinstance(node, ConstantPlan | ShowCollectionsPlan):
        return list(node.columns)
    if isinstance(node, ShowPartitionsPlan | AnalyzePlan):
        return list(node.columns)
    if isinstance(node, BatchTopKPlan):
        return describe_batch(engine, node)
    if isinstance(node, DuckPlan):
        described = engine.describe_sql(node.describe_sql, stats_relations(engine, node))
        return _named(node, [OutputColumn(*column) for column in described])
    return None


def _topk(
    engine: Engine, plan: VectorTopKPlan, params: Params, settings: SearchSettings
) -> Outcome:
    query = plan.query(params) if plan.query_sql is None else _stored_vector(engine, plan, params)
    if query is None:
        # ORDER BY a NULL distance: every row ties; Postgres returns rows in scan order.
        raise InvalidParameterValue("the query vector of a vector search must not be NULL")
    dim = engine.spec(plan.collection).column(plan.column).dim
    check_same_dimensions(dim or len(query), len(query))
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
    result = engine.search(
        plan.collection,
        SearchRequest(
            plan.column,
            query,
            k,
            plan.metric,
            descending=plan.descending,
            candidates=candidates,
            partitions=list(plan.partitions) if plan.partitions is not None else None,
            settings=settings,
        ),
    )
    positions, distances = result.positions[offset:], result.distances[offset:]
    context = RowsContext(plan.collection, positions, distances, params)
    rows = _project(engine, plan.projection, context)
    notices = [Notice(message) for message in result.notices] if limit else []
    return Outcome(f"SELECT {len(rows)}", list(plan.projection.columns), rows, notices)


def _stored_vector(engine: Engine, plan: VectorTopKPlan, params: Params) -> np.ndarray | None:
    """The value of the scalar subquery that gives the query vector (None when no row)."""
    assert plan.query_sql is not None
    rows = engine.run_sql(plan.query_sql.sql, plan.query_sql.bind(params)).rows
    if len(rows) > 1:
        raise CardinalityViolation("more than one row returned by a subquery used as an expression")
    return rows[0][0] if rows else None


def _filtered_positions(engine: Engine, plan: VectorTopKPlan, params: Params) -> np.ndarray | None:
    if plan.filter is None:
        return None
    result = engine.run_sql(plan.filter.sql, plan.filter.bind(params))
    return engine.positions_of(plan.collection, [row[0] for row in result.rows])


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


def _project(
    engine: Engine, projection: ResultProjection, context: RowsContext
) -> list[tuple[Any, ...]]:
    if len(context.positions) == 0:
        return []
    columns = [produce(engine, context) for produce in projection.producers]
    return list(zip(*columns, strict=True))


def _insert(engine: Engine, plan: InsertPlan, params: Params) -> Outcome:
    rows = [[value(params) for value in row] for row in plan.rows]
    positions = engine.insert(plan.collection, plan.columns, rows, plan.partition)
    tag = f"INSERT 0 {len(positions)}"
    if plan.returning is None:
        return Outcome(tag)
    context = RowsContext(plan.collection, positions, None, params)
    return Outcome(tag, list(plan.returning.columns), _project(engine, plan.returning, context))


def _duck(engine: Engine, plan: DuckPlan, params: Params) -> Outcome:
    result = engine.run_sql(plan.query.sql, plan.query.bind(params), stats_relations(engine, plan))
    columns = _named(plan, [OutputColumn(*column) for column in result.columns])
    return Outcome(f"SELECT {len(result.rows)}", columns, result.rows)


def _named(plan: DuckPlan, columns: list[OutputColumn]) -> list[OutputColumn]:
    """Postgres' column names (`count`, `?column?`) instead of DuckDB's (`count_star()`)."""
    names = plan.column_names
    if names is None or len(names) != len(columns):
        return columns
    return [OutputColumn(name, c.type, c.typmod) for name, c in zip(names, columns, strict=True)]


def _create(engine: Engine, plan: CreateCollectionPlan) -> Outcome:
    created = engine.create_collection(plan.spec, plan.if_not_exists)
    if created:
        return Outcome(plan.tag)
    notice = Notice(f'relation "{plan.spec.name}" already exists, skipping', sqlstate="42P07")
    return Outcome(plan.tag, notices=[notice])


def _drop(engine: Engine, plan: DropCollectionPlan) -> Outcome:
    notices = []
    for name in plan.names:
        if not engine.drop_collection(name, plan.if_exists):
            notices.append(Notice(f'table "{name}" does not exist, skipping', sqlstate="00000"))
    return Outcome(plan.tag, notices=notices)
