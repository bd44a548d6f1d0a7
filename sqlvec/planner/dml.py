"""DELETE and UPDATE on a collection: DuckDB finds the rows (and computes new values), the
engine applies them to its rows, segments and tombstones."""

from __future__ import annotations

from sqlglot import exp

from sqlvec.engine.catalog import CollectionSpec
from sqlvec.errors import FeatureNotSupported, UndefinedColumn, UndefinedTable
from sqlvec.parser.nodes import VectorDistance
from sqlvec.planner.context import PlanContext, infer_parameter_types
from sqlvec.planner.duck import to_duck_sql
from sqlvec.planner.plans import DeletePlan, UpdatePlan
from sqlvec.planner.values import parameter_index


def plan_delete(node: exp.Delete, ctx: PlanContext) -> DeletePlan:
    spec = _target(node, ctx)
    if node.args.get("using") or node.args.get("returning"):
        raise FeatureNotSupported("DELETE ... USING / RETURNING is not supported yet")
    select = exp.select(exp.column(spec.id_column.name, quoted=True)).from_(_table(node))
    where = node.args.get("where")
    if where is not None:
        _no_vectors(where, "DELETE")
        select = select.where(where.this.copy())
    infer_parameter_types(select, [spec], ctx)
    return DeletePlan(spec.name, to_duck_sql(select, ctx.constants))


def plan_update(node: exp.Update, ctx: PlanContext) -> UpdatePlan:
    spec = _target(node, ctx)
    if node.args.get("from_") or node.args.get("from") or node.args.get("returning"):
        raise FeatureNotSupported("UPDATE ... FROM / RETURNING is not supported yet")
    columns: list[str] = []
    values: list[exp.Expr] = [exp.column(spec.id_column.name, quoted=True)]
    for assignment in node.expressions:
        target = assignment.this
        if not isinstance(assignment, exp.EQ) or not isinstance(target, exp.Column):
            raise FeatureNotSupported("UPDATE supports SET column = expression")
        if not spec.has_column(target.name):
            raise UndefinedColumn(
                f'column "{target.name}" of relation "{spec.name}" does not exist'
            )
        column = spec.column(target.name)
        if column.is_vector or column.primary_key:
            raise FeatureNotSupported(
                f'UPDATE of column "{column.name}" is not supported: delete and insert the row'
            )
        _no_vectors(assignment.expression, "UPDATE")
        columns.append(target.name)
        values.append(exp.alias_(assignment.expression.copy(), target.name, quoted=True))
    select = exp.select(*values).from_(_table(node))
    where = node.args.get("where")
    if where is not None:
        _no_vectors(where, "UPDATE")
        select = select.where(where.this.copy())
    infer_parameter_types(select, [spec], ctx)
    for assignment in node.expressions:
        _type_assigned_parameter(assignment, spec, ctx)
    return UpdatePlan(spec.name, tuple(columns), to_duck_sql(select, ctx.constants))


def _target(node: exp.Delete | exp.Update, ctx: PlanContext) -> CollectionSpec:
    table = node.this
    if isinstance(table, exp.Table) and table.args.get("partitions"):
        raise FeatureNotSupported("PARTITION (...) in DELETE and UPDATE is not supported yet")
    if not isinstance(table, exp.Table) or not ctx.catalog.has_collection(table.name):
        raise UndefinedTable(f'relation "{table.name}" does not exist')
    return ctx.catalog.spec(table.name)


def _table(node: exp.Delete | exp.Update) -> exp.Table:
    return node.this.copy()


def _no_vectors(node: exp.Expr, statement: str) -> None:
    if node.find(VectorDistance):
        raise FeatureNotSupported(f"vector operators in {statement} are not supported yet")


def _type_assigned_parameter(assignment: exp.Expr, spec: CollectionSpec, ctx: PlanContext) -> None:
    """`SET year = $1` types $1 as the column's type."""
    value = assignment.expression
    if isinstance(value, exp.Parameter):
        ctx.params.note(parameter_index(value), spec.column(assignment.this.name).type)
