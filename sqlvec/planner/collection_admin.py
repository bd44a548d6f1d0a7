"""Milvus' collection model as statements: partitions, indexes, FLUSH, COMPACT, ANALYZE."""

from __future__ import annotations

from sqlglot import exp

from sqlvec.engine.catalog import CollectionSpec, ColumnSpec
from sqlvec.engine.index_types import OPCLASS_METRICS, define_index, opclass_type
from sqlvec.errors import (
    DatatypeMismatch,
    FeatureNotSupported,
    UndefinedColumn,
    UndefinedObject,
    UndefinedTable,
)
from sqlvec.parser.nodes import (
    AnalyzeCollection,
    Compact,
    CreatePartition,
    CreateVectorIndex,
    DropPartition,
    DropVectorIndex,
    Flush,
    ShowPartitions,
)
from sqlvec.planner.context import PlanContext
from sqlvec.planner.plans import (
    AnalyzePlan,
    CompactPlan,
    CreateIndexPlan,
    CreatePartitionPlan,
    DropIndexPlan,
    DropPartitionPlan,
    FlushPlan,
    ShowPartitionsPlan,
)

ADMIN_NODES = (
    CreatePartition,
    DropPartition,
    ShowPartitions,
    CreateVectorIndex,
    DropVectorIndex,
    Flush,
    Compact,
    AnalyzeCollection,
)


def plan_admin(node: exp.Expr, ctx: PlanContext) -> object:
    if isinstance(node, CreatePartition):
        return CreatePartitionPlan(
            _spec(node.args["collection"], ctx).name, node.name, _flag(node, "exists")
        )
    if isinstance(node, DropPartition):
        return DropPartitionPlan(
            _spec(node.args["collection"], ctx).name, node.name, _flag(node, "exists")
        )
    if isinstance(node, ShowPartitions):
        return ShowPartitionsPlan(_spec(node.args["collection"], ctx).name)
    if isinstance(node, CreateVectorIndex):
        return _create_index(node, ctx)
    if isinstance(node, DropVectorIndex):
        collection = node.args.get("collection")
        name = _spec(collection, ctx).name if collection is not None else None
        return DropIndexPlan(node.args.get("this"), name, _flag(node, "exists"))
    if isinstance(node, Flush):
        return FlushPlan(tuple(_spec(table, ctx).name for table in node.expressions))
    if isinstance(node, Compact):
        return CompactPlan(_spec(node.this, ctx).name)
    assert isinstance(node, AnalyzeCollection)
    target = node.args.get("this")
    names = (
        (_spec(target, ctx).name,) if target is not None else tuple(ctx.catalog.collection_names())
    )
    return AnalyzePlan(names)


def _create_index(node: CreateVectorIndex, ctx: PlanContext) -> CreateIndexPlan:
    spec = _spec(node.args["collection"], ctx)
    column_name = node.args["column"]
    if not spec.has_column(column_name):
        raise UndefinedColumn(f'column "{column_name}" does not exist')
    column = spec.column(column_name)
    if not column.is_vector:
        raise FeatureNotSupported(
            f'column "{column_name}" is not a vector: only vector columns are indexed'
        )
    method = node.args.get("method")
    metric = _metric(node.args.get("opclass"), method, spec, column)
    raw = {prop.name: _option_value(prop) for prop in node.args.get("options") or []}
    name = node.args.get("this") or f"{spec.name}_{column_name}_idx"
    definition = define_index(
        name, column_name, column.dim or 0, method, metric, raw, column.type.name
    )
    return CreateIndexPlan(spec.name, definition, _flag(node, "exists"))


def _metric(
    opclass: str | None, method: str | None, spec: CollectionSpec, column: ColumnSpec
) -> str:
    """pgvector's operator class names the distance; without one, the collection's metric
    (Hamming for a bit column)."""
    if opclass is None:
        return "hamming" if column.type.name == "bit" else spec.metric
    if opclass not in OPCLASS_METRICS:
        raise UndefinedObject(
            f'operator class "{opclass}" does not exist for access method "{method or "flat"}"'
        )
    if opclass_type(opclass) != column.type.name:
        raise DatatypeMismatch(
            f'operator class "{opclass}" does not accept data type {column.type.name}'
        )
    return OPCLASS_METRICS[opclass]


def _option_value(prop: exp.Expr) -> object:
    value = prop.args.get("value")
    return value.name if isinstance(value, exp.Expr) else value


def _spec(table: exp.Expr, ctx: PlanContext) -> CollectionSpec:
    name = table.name
    if not ctx.catalog.has_collection(name):
        raise UndefinedTable(f'relation "{name}" does not exist')
    return ctx.catalog.spec(name)


def _flag(node: exp.Expr, name: str) -> bool:
    return bool(node.args.get(name))
