"""Logical plans after the rewrite rules, as plans the executor runs."""

from __future__ import annotations

from sqlglot import exp

from sqlvec.engine.partition_key import key_column
from sqlvec.errors import FeatureNotSupported
from sqlvec.parser.nodes import VectorDistance
from sqlvec.planner.context import PlanContext, infer_parameter_types
from sqlvec.planner.duck import to_duck_sql
from sqlvec.planner.logical import (
    Filter,
    LogicalNode,
    NotAVectorSearch,
    Project,
    Scan,
    VectorRange,
    VectorTopK,
)
from sqlvec.planner.partition_pruning import key_values
from sqlvec.planner.plans import DuckSql, Evaluator, VectorRangePlan, VectorTopKPlan
from sqlvec.planner.projection import ProjectionBuilder
from sqlvec.planner.row_predicate import RowPredicate, compile_row_predicate
from sqlvec.planner.values import compile_value
from sqlvec.planner.vector_sql import to_duckdb
from sqlvec.types import FLOAT8, INT8, PgType


def to_physical(plan: LogicalNode, ctx: PlanContext) -> VectorTopKPlan | VectorRangePlan:
    if isinstance(plan, Project) and isinstance(plan.input, VectorTopK):
        return _topk(plan, plan.input, ctx)
    if isinstance(plan, Project) and isinstance(plan.input, VectorRange):
        return _range(plan, plan.input, ctx)
    raise NotAVectorSearch("no ORDER BY distance to a constant vector")


def _range(project: Project, node: VectorRange, ctx: PlanContext) -> VectorRangePlan:
    as_topk = VectorTopK(
        node.input,
        node.column,
        node.distance,
        node.query,
        node.descending,
        node.limit,
        node.offset,
    )
    try:
        search = _topk(project, as_topk, ctx)
    except FeatureNotSupported as error:
        # An output the in-memory projection cannot compute: DuckDB runs the query instead.
        raise NotAVectorSearch(str(error)) from None
    bound, _ = compile_value(node.bound.bound, ctx.params, FLOAT8)
    order_query = None
    if node.order_query is not None:
        column_type = _column_type(node)
        order_query, _ = compile_value(node.order_query, ctx.params, column_type)
    return VectorRangePlan(
        search, node.bound.transform, node.bound.comparison, bound, node.ordered, order_query
    )


def _column_type(node: VectorRange) -> PgType:
    scan = node.input if isinstance(node.input, Scan) else node.input.input
    return scan.collection.column(node.column).type


def _topk(project: Project, topk: VectorTopK, ctx: PlanContext) -> VectorTopKPlan:
    scan = topk.input if isinstance(topk.input, Scan) else topk.input.input
    spec = scan.collection
    if scan.partitions is not None and key_column(spec):
        raise FeatureNotSupported(
            f'collection "{spec.name}" has a partition key: PARTITION (...) cannot be named',
            hint=f'Filter on "{key_column(spec)}" instead.',
        )
    query_sql = _subquery_sql(topk.query, ctx)
    column_type = spec.column(topk.column).type
    query: Evaluator = (
        (lambda _: None) if query_sql else compile_value(topk.query, ctx.params, column_type)[0]
    )
    projection = ProjectionBuilder(spec, ctx.params, topk.distance).build(project.outputs)
    return VectorTopKPlan(
        collection=spec.name,
        column=topk.column,
        metric=_metric(topk.distance),
        query=query,
        limit=_count(topk.limit, ctx),
        offset=_count(topk.offset, ctx),
        descending=topk.descending,
        filter=_filter(topk.input, ctx) if isinstance(topk.input, Filter) else None,
        row_filter=_row_filter(topk.input, ctx) if isinstance(topk.input, Filter) else None,
        projection=projection,
        partitions=scan.partitions,
        query_sql=query_sql,
        key_values=key_values(
            topk.input.predicate if isinstance(topk.input, Filter) else None, spec, ctx.params
        ),
    )


def _subquery_sql(node: exp.Expr, ctx: PlanContext) -> DuckSql | None:
    inner = node.this if isinstance(node, exp.Paren) else node
    if not isinstance(inner, exp.Subquery):
        return None
    select = inner.this
    specs = [
        ctx.catalog.spec(t.name)
        for t in select.find_all(exp.Table)
        if ctx.catalog.has_collection(t.name)
    ]
    infer_parameter_types(select, specs, ctx)
    return to_duck_sql(to_duckdb(select.copy()), ctx.constants)


def _count(node: exp.Expr | None, ctx: PlanContext) -> Evaluator | None:
    if node is None:
        return None
    evaluate, _ = compile_value(node, ctx.params, INT8)
    return evaluate


def _filter(node: Filter, ctx: PlanContext) -> DuckSql:
    spec = node.input.collection
    infer_parameter_types(node.predicate, [spec], ctx)
    select = (
        exp.select(exp.column(spec.id_column.name, quoted=True))
        .from_(
            exp.to_table(spec.name, quoted=True).as_(node.input.alias)
            if node.input.alias
            else exp.to_table(spec.name, quoted=True)
        )
        .where(node.predicate.copy())
    )
    return to_duck_sql(select, ctx.constants)


def _row_filter(node: Filter, ctx: PlanContext) -> RowPredicate | None:
    scan = node.input
    return compile_row_predicate(node.predicate, scan.collection, scan.alias, ctx.params)


def _metric(distance: exp.Expr) -> str:
    assert isinstance(distance, VectorDistance)
    return distance.metric
