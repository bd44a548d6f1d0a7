"""INSERT ... VALUES, or INSERT ... SELECT, into a collection [RETURNING].

The rows of an INSERT ... SELECT come from the query planned as any other (DuckDB for scalar
SQL, the search paths for vector operators); the executor runs it, then inserts its rows
with each value coerced to its column's type as an assignment (Postgres' rule).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlglot import exp

from sqlvec.engine.catalog import ColumnSpec
from sqlvec.errors import FeatureNotSupported, SyntaxError, UndefinedColumn, UndefinedTable
from sqlvec.planner.context import PlanContext
from sqlvec.planner.insert_select import values_rows
from sqlvec.planner.logical import Output
from sqlvec.planner.plans import InsertPlan
from sqlvec.planner.projection import ProjectionBuilder
from sqlvec.planner.select import output_name, plan_select
from sqlvec.planner.values import coerce_to, compile_value


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
    listed = _listed_rows(node.expression)
    source = plan_select(node.expression, ctx) if listed is None else None
    rows = []
    for items in listed or []:
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
    coercions = tuple(_assignment(spec.column(name)) for name in names) if source else ()
    partition = node.args.get("partition_tag")
    return InsertPlan(spec.name, names, tuple(rows), projection, partition, source, coercions)


def _listed_rows(source: exp.Expr) -> list[list[exp.Expr]] | None:
    """The rows of VALUES, or of SQLAlchemy's projection of a VALUES list (read row by row,
    as VALUES are); None for any other query, which is planned as one."""
    if isinstance(source, exp.Values):
        return [
            list(r.expressions) if isinstance(r, exp.Tuple) else [r] for r in source.expressions
        ]
    if not isinstance(source, exp.Query):
        raise FeatureNotSupported(
            "INSERT ... DEFAULT VALUES is not supported: give VALUES or a query"
        )
    try:
        return values_rows(source)
    except FeatureNotSupported:
        return None


def _assignment(column: ColumnSpec) -> Callable[[Any], Any]:
    # The type only, as for VALUES: the insert checks dimensions and lengths itself.
    return coerce_to(column.type)
