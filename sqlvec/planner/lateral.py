"""Many kNN searches in one statement, run as one batched search:

    SELECT q.qid, r.id, r.distance FROM queries q CROSS JOIN LATERAL (
        SELECT id, embedding <-> q.vec AS distance FROM docs ORDER BY distance LIMIT 10) r

The outer rows (a table, VALUES, unnest($1::vector[])) are read by DuckDB; the inner search
runs once for all of their vectors; the statement itself then runs in DuckDB over two
relations standing for the outer side and the search results, joined on the outer row.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from sqlvec.planner.context import PlanContext, infer_parameter_types
from sqlvec.planner.duck import describe_sql, to_duck_sql
from sqlvec.planner.logical import NotAVectorSearch
from sqlvec.planner.plans import BatchTopKPlan, VectorTopKPlan
from sqlvec.planner.values import parameter_index
from sqlvec.planner.vector_sql import to_duckdb

ROW = "__sqlvec_row"
OUTER = "sqlvec_outer"
LATERAL = "sqlvec_lateral"


def lateral_join(select: exp.Expr) -> exp.Join | None:
    """The single LATERAL join of a SELECT, if that is its shape."""
    joins = select.args.get("joins") or [] if isinstance(select, exp.Select) else []
    laterals = [j for j in joins if isinstance(j.this, exp.Lateral)]
    return laterals[0] if len(joins) == 1 and len(laterals) == 1 else None


def plan_lateral(
    select: exp.Select,
    join: exp.Join,
    ctx: PlanContext,
    plan_inner: Callable[[exp.Select], object],
) -> BatchTopKPlan:
    from_clause = select.args.get("from_") or select.args.get("from")
    source = from_clause.this if from_clause is not None else None
    outer_alias = _alias(source) if source is not None else None
    lateral = join.this
    inner = lateral.this.this if isinstance(lateral.this, exp.Subquery) else None
    if source is None or outer_alias is None or not isinstance(inner, exp.Select):
        raise NotAVectorSearch("LATERAL join shape")
    query_param = _next_parameter(select)
    vector_column, bound = _bind_outer_vector(inner, outer_alias, query_param)
    inner_plan = plan_inner(bound)
    if not isinstance(inner_plan, VectorTopKPlan):
        raise NotAVectorSearch("the LATERAL subquery is not a vector search")
    outer = _outer_query(source)
    inner_alias = _alias(lateral) or _alias(join) or "r"
    final = _final_query(select, join, outer_alias, inner_alias)
    infer_parameter_types(outer, [], ctx)
    infer_parameter_types(final, [], ctx)
    outer_sql, final_sql = to_duckdb(outer), to_duckdb(final)
    empty_outer = outer_sql.copy()
    empty_outer.set("limit", exp.Limit(expression=exp.Literal.number(0)))
    return BatchTopKPlan(
        outer=to_duck_sql(outer_sql, ctx.constants),
        outer_describe=describe_sql(empty_outer, ctx.constants, ctx.params),
        outer_vector=vector_column,
        inner=inner_plan,
        query_param=query_param,
        final=to_duck_sql(final_sql, ctx.constants),
        final_describe=describe_sql(final_sql, ctx.constants, ctx.params),
        direct=_direct_columns(select, outer_alias, inner_alias, inner_plan),
        keep_unmatched=join.args.get("side") == "LEFT",
    )


# Clauses after which the statement is more than a list of either side's columns.
_CLAUSES = ("where", "group", "having", "order", "limit", "offset", "distinct", "qualify")


def _direct_columns(
    select: exp.Select, outer: str, inner: str, inner_plan: VectorTopKPlan
) -> tuple[tuple[bool, str], ...] | None:
    """Per output column (outer side?, column name) where the statement only lists qualified
    columns (`q.qid, r.id, r.distance`) of a plain or LEFT join; else None (DuckDB runs it)."""
    if any(select.args.get(clause) for clause in _CLAUSES):
        return None
    inner_names = {column.name for column in inner_plan.projection.columns}
    direct = []
    for item in select.expressions:
        column = item.this if isinstance(item, exp.Alias) else item
        if not isinstance(column, exp.Column) or isinstance(column.this, exp.Star):
            return None
        if column.table == outer and column.table != inner and column.name != ROW:
            direct.append((True, column.name))
        elif column.table == inner and column.table != outer and column.name in inner_names:
            direct.append((False, column.name))
        else:
            return None
    return tuple(direct)


def _alias(node: exp.Expr) -> str | None:
    alias = node.args.get("alias")
    if isinstance(alias, exp.TableAlias) and alias.this is not None:
        return alias.name
    if isinstance(node, exp.Table):
        return node.name
    return None


def _next_parameter(select: exp.Expr) -> int:
    used = [parameter_index(p) for p in select.find_all(exp.Parameter)]
    return max(used, default=-1) + 1


def _bind_outer_vector(inner: exp.Select, outer: str, index: int) -> tuple[str, exp.Select]:
    """The inner search with its one reference to the outer side as parameter `index`."""
    references = [c for c in inner.find_all(exp.Column) if c.table == outer]
    names = {c.name for c in references}
    if len(names) != 1:
        raise NotAVectorSearch("the LATERAL subquery must use exactly one outer column")
    parameter = exp.Parameter(this=exp.Literal.number(index + 1))

    def bind(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and node.table == outer:
            return parameter.copy()
        return node

    bound = inner.copy().transform(bind)
    assert isinstance(bound, exp.Select)
    return names.pop(), bound


def _outer_query(source: exp.Expr) -> exp.Select:
    numbered = exp.alias_(
        exp.Sub(this=exp.Window(this=exp.RowNumber()), expression=exp.Literal.number(1)), ROW
    )
    # `*`, not `q.*`: the source is the only relation, and DuckDB refuses `q.*` over
    # `unnest(...) WITH ORDINALITY AS q(v, n)` ("duplicate alias").
    return exp.select(exp.Star(), numbered).from_(source.copy())


def _final_query(select: exp.Select, join: exp.Join, outer: str, inner: str) -> exp.Select:
    final = select.copy()
    final.set("from_", exp.From(this=exp.to_table(OUTER).as_(outer)))
    condition = exp.EQ(this=exp.column(ROW, table=inner), expression=exp.column(ROW, table=outer))
    side = join.args.get("side")
    final.set(
        "joins",
        [exp.Join(this=exp.to_table(LATERAL).as_(inner), on=condition, side=side)],
    )
    return final
