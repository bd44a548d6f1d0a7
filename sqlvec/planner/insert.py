"""INSERT ... VALUES into a collection [RETURNING]."""

from __future__ import annotations

from sqlglot import exp

from sqlvec.errors import FeatureNotSupported, SyntaxError, UndefinedColumn, UndefinedTable
from sqlvec.planner.context import PlanContext
from sqlvec.planner.insert_select import values_rows
from sqlvec.planner.logical import Output
from sqlvec.planner.plans import InsertPlan
from sqlvec.planner.projection import ProjectionBuilder
from sqlvec.planner.select import output_name
from sqlvec.planner.values import compile_value


def plan_insert(node: exp.Insert, ctx: PlanContext) -> InsertPlan:
    target = node.this
    table = target.this if isinstance(target, exp.Schema) else target
    if not isinstance(table, exp.Table) or not ctx.catalog.has_collection(table.name):
        raise UndefinedTable(f'relation "{table.name}" does not exist')
    spec = ctx.catalog.spec(table.name)
    if isinstance(target, exp.Schema):
        names = tuple(column.name for column in target.expressions)
    else:
        names = tuple(c.name for c in spec.columns if not c.generated)
    for name in names:
        if not spec.has_column(name):
            raise UndefinedColumn(f'column "{name}" of relation "{spec.name}" does not exist')
    if node.args.get("conflict"):
        raise FeatureNotSupported("INSERT ... ON CONFLICT is not supported yet")
    rows = []
    for items in _source_rows(node.expression):
        if len(items) > len(names):
            raise SyntaxError("INSERT has more expressions than target columns")
        if len(items) < len(names):
            raise SyntaxError("INSERT has more target columns than expressions")
        rows.append(
            tuple(
                compile_value(item, ctx.params, spec.column(name).type)[0]
                for item, name in zip(items, names, strict=True)
            )
        )
    returning = node.args.get("returning")
    projection = None
    if returning is not None:
        outputs: list[Output] = []
        for item in returning.expressions:
            if isinstance(item, exp.Star):
                outputs.extend(Output(c.name, exp.column(c.name)) for c in spec.columns)
            else:
                inner = item.this if isinstance(item, exp.Alias) else item
                outputs.append(Output(output_name(item), inner))
        projection = ProjectionBuilder(spec, ctx.params, None).build(tuple(outputs))
    return InsertPlan(spec.name, names, tuple(rows), projection, node.args.get("partition_tag"))


def _source_rows(source: exp.Expr) -> list[list[exp.Expr]]:
    if isinstance(source, exp.Values):
        return [
            list(r.expressions) if isinstance(r, exp.Tuple) else [r] for r in source.expressions
        ]
    return values_rows(source)  # INSERT ... SELECT ... FROM (VALUES ...) (SQLAlchemy)
