"""Planning COPY: FROM STDIN into a collection, TO STDOUT from a collection or a query.

Files and programs on the server are refused (0A000): sqlvec never reads or writes server-side
files on a client's behalf; `psql`'s `\\copy` sends a file through STDIN / STDOUT instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from sqlvec.copy.options import CopyOptions, copy_options
from sqlvec.engine.catalog import ColumnSpec
from sqlvec.errors import DuplicateColumn, FeatureNotSupported, UndefinedColumn, UndefinedTable
from sqlvec.planner.context import PlanContext
from sqlvec.planner.select import plan_select


@dataclass(frozen=True)
class CopyFromPlan:
    """COPY collection [(columns)] FROM STDIN: the data's columns, in the data's order."""

    collection: str
    columns: tuple[ColumnSpec, ...]
    options: CopyOptions


@dataclass(frozen=True)
class CopyToPlan:
    """COPY ... TO STDOUT: the plan of the query whose rows are sent."""

    query: object
    options: CopyOptions


COPY_PLANS = (CopyFromPlan, CopyToPlan)


def plan_copy(statement: exp.Copy, ctx: PlanContext) -> CopyFromPlan | CopyToPlan:
    copy_from = bool(statement.args.get("kind"))
    _check_client_target(statement, copy_from)
    options = copy_options(statement.args.get("params"), copy_from)
    target = statement.this
    if copy_from:
        if statement.args.get("where") is not None:
            raise FeatureNotSupported("COPY FROM ... WHERE is not supported")
        return _plan_copy_from(target, options, ctx)
    if isinstance(target, exp.Subquery):
        query = target.this
        if not isinstance(query, exp.Query):
            raise FeatureNotSupported("COPY (...) TO supports queries only")
        return CopyToPlan(plan_select(query, ctx), options)
    table, names = _table_and_columns(target)
    if not names and ctx.catalog.has_collection(table.name):
        names = [c.name for c in ctx.catalog.spec(table.name).columns]
    if len(set(names)) != len(names):
        duplicate = next(n for n in names if names.count(n) > 1)
        raise DuplicateColumn(f'column "{duplicate}" specified more than once')
    if names:
        options.check_columns(names)
    columns: list[exp.Expr] = [exp.column(name, quoted=True) for name in names] or [exp.Star()]
    select = exp.select(*columns).from_(table.copy())
    return CopyToPlan(plan_select(select, ctx), options)


def _check_client_target(statement: exp.Copy, copy_from: bool) -> None:
    files = statement.args.get("files") or []
    if statement.args.get("program") or not files or not isinstance(files[0], exp.Var):
        what = "a program" if statement.args.get("program") else "a file"
        direction, client = ("FROM", "STDIN") if copy_from else ("TO", "STDOUT")
        raise FeatureNotSupported(
            f"COPY {direction} {what} is not supported: sqlvec does not read or write files "
            "on the server",
            hint=f"Use COPY ... {direction} {client}, which sends the data over the connection "
            "(psql's \\copy does this for a local file).",
        )


def _plan_copy_from(target: exp.Expr, options: CopyOptions, ctx: PlanContext) -> CopyFromPlan:
    if isinstance(target, exp.Subquery):
        raise FeatureNotSupported("COPY (query) FROM is not possible")  # the parser refuses it
    table, names = _table_and_columns(target)
    if not ctx.catalog.has_collection(table.name):
        raise UndefinedTable(f'relation "{table.name}" does not exist')
    spec = ctx.catalog.spec(table.name)
    if not names:
        names = [c.name for c in spec.columns]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DuplicateColumn(f'column "{name}" specified more than once')
        seen.add(name)
        if not spec.has_column(name):
            raise UndefinedColumn(f'column "{name}" of relation "{spec.name}" does not exist')
    options.check_columns(names)
    return CopyFromPlan(spec.name, tuple(spec.column(name) for name in names), options)


def _table_and_columns(target: exp.Expr) -> tuple[exp.Table, list[str]]:
    if isinstance(target, exp.Schema):
        table = target.this
        names = [column.name for column in target.expressions]
    else:
        table, names = target, []
    if not isinstance(table, exp.Table):
        raise FeatureNotSupported("COPY needs a table name or a query in parentheses")
    return table, names
