"""A top-k search inside a statement, run through the indexes, with the SQL around it in DuckDB:

    SELECT category, count(*) FROM (
        SELECT category FROM docs ORDER BY embedding <-> $1 LIMIT 100) s GROUP BY category
    SELECT r.id, n.note FROM (SELECT id FROM docs ORDER BY embedding <-> $1 LIMIT 10) r
        JOIN notes n ON n.id = r.id
    WITH nn AS (SELECT id, title FROM docs ORDER BY embedding <-> $1 LIMIT 10) SELECT ...
    SELECT * FROM notes WHERE id IN (SELECT id FROM docs ORDER BY embedding <-> $1 LIMIT 10)
    SELECT id, upper(title) FROM docs ORDER BY embedding <-> $1 LIMIT 10

DuckDB alone would compute every row's distance (exact, a scan of the collection); pgvector
takes its index for such a subquery. Here the search runs as any top-k search, and its rows,
nearest first, become a relation (`search_relation(i)`) that the statement reads in the subquery's
place (DuckDB keeps a relation's order through projections and filters). The last form, whose
select list has what the search does not compute, is first written as the first
(`searched_first`): the search with `*` as the subquery, the select list over it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from sqlvec.engine.catalog import CollectionSpec
from sqlvec.errors import FeatureNotSupported, UndefinedTable
from sqlvec.parser.nodes import VectorDistance
from sqlvec.planner.logical import NotAVectorSearch
from sqlvec.planner.plans import DuckPlan, SearchSubqueryPlan, VectorTopKPlan, search_relation

PlanSearch = Callable[[exp.Select], object]
PlanDuck = Callable[[exp.Expr, tuple[CollectionSpec, ...]], DuckPlan]

_MOVED = ("where", "order", "limit", "offset")  # the clauses that make the search


def plan_search_subquery(
    statement: exp.Expr,
    spec_of: Callable[[str], CollectionSpec],
    plan_search: PlanSearch,
    plan_duck: PlanDuck,
) -> SearchSubqueryPlan | None:
    """The plan where subqueries or CTEs of the statement (in FROM, a join, WITH, `IN (...)`,
    a UNION's branches) are top-k searches; None where none is."""
    ctes = {cte.alias_or_name for cte in statement.find_all(exp.CTE)}
    subqueries = _subqueries(statement)
    found: list[tuple[int, VectorTopKPlan]] = []
    for i, subquery in enumerate(subqueries):  # outer ones first (breadth first)
        if any(_inside(subquery, subqueries[j]) for j, _ in found):
            continue  # within a search already found: its own planning covered it
        if _self_contained(subquery.this, ctes, spec_of):
            plan = _search(subquery.this, plan_search)
            if plan is not None:
                found.append((i, plan))
    if not found:
        return None
    outer = statement.copy()
    copies = _subqueries(outer)
    for number, (index, _) in enumerate(found):
        # The search's rows in its place: `(SELECT * FROM sqlvec_search) s`, `nn AS (...)`.
        copies[index].set("this", exp.select("*").from_(search_relation(number)))
    searches = tuple(plan for _, plan in found)
    specs = tuple(spec_of(search.collection) for search in searches)
    return SearchSubqueryPlan(searches, plan_duck(outer, specs))


def _inside(node: exp.Expr, ancestor: exp.Expr) -> bool:
    """Whether `node` lies within `ancestor`'s subtree (a subquery nested in a search)."""
    parent = node.parent
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.parent
    return False


def searched_first(select: exp.Select) -> exp.Select:
    """`SELECT f(x) FROM t WHERE p ORDER BY d LIMIT k` as
    `SELECT f(x) FROM (SELECT * FROM t WHERE p ORDER BY d LIMIT k) t`: the search as a
    subquery named as the table was, so the select list reads the same names."""
    source = select.args["from_"].this
    if not isinstance(source, exp.Table):  # the search planned, so FROM is one collection
        return select
    inner = exp.Select(expressions=[exp.Star()])
    inner.set("from_", exp.From(this=source.copy()))
    for clause in _MOVED:
        if select.args.get(clause) is not None:
            inner.set(clause, select.args[clause].copy())
    order = inner.args.get("order")
    if order is not None:
        for key in order.expressions:
            key.set("this", _output_expression(key.this, select.expressions))
    outer = select.copy()
    for clause in _MOVED:
        outer.set(clause, None)
    alias = exp.TableAlias(this=exp.to_identifier(source.alias_or_name))
    outer.set("from_", exp.From(this=exp.Subquery(this=inner, alias=alias)))
    return outer


def _output_expression(key: exp.Expr, outputs: list[exp.Expr]) -> exp.Expr:
    """An ORDER BY key that names an output (alias or ordinal) as that output's expression:
    the subquery has no such names."""
    if isinstance(key, exp.Literal) and not key.is_string:
        ordinal = int(key.this)
        if not 1 <= ordinal <= len(outputs):
            raise FeatureNotSupported(f"ORDER BY position {ordinal} is not in select list")
        chosen = outputs[ordinal - 1]
        return (chosen.this if isinstance(chosen, exp.Alias) else chosen).copy()
    if isinstance(key, exp.Column) and not key.table:
        for output in outputs:
            if isinstance(output, exp.Alias) and output.alias == key.name:
                return output.this.copy()
    return key.copy()


def _subqueries(statement: exp.Expr) -> list[exp.Subquery | exp.CTE]:
    """Every subquery and CTE of the statement, in one fixed order (the copy's are found
    again by position)."""
    return list(statement.find_all(exp.Subquery, exp.CTE))


def _self_contained(
    inner: exp.Expr, ctes: set[str], spec_of: Callable[[str], CollectionSpec]
) -> bool:
    """Whether a subquery is one collection's search that names nothing of the statement
    around it: no CTE, no outer table's column (a correlated subquery runs in DuckDB whole,
    as it did). Columns are its collection's, its own outputs' aliases, or qualified by a
    table of its own."""
    if not isinstance(inner, exp.Select) or inner.find(VectorDistance) is None:
        return False
    tables = list(inner.find_all(exp.Table))
    if any(table.name in ctes for table in tables):
        return False
    source = inner.args.get("from_")
    if source is None or not isinstance(source.this, exp.Table):
        return False
    try:
        spec = spec_of(source.this.name)
    except UndefinedTable:
        return False
    own = {table.alias_or_name for table in tables} | {table.name for table in tables}
    names = {column.name for column in spec.columns}
    names |= {e.alias for e in inner.expressions if isinstance(e, exp.Alias)}
    return all(
        column.table in own if column.table else column.name in names
        for column in inner.find_all(exp.Column)
        if not isinstance(column.this, exp.Star)
    )


def _search(inner: exp.Expr, plan_search: PlanSearch) -> VectorTopKPlan | None:
    assert isinstance(inner, exp.Select)
    try:
        plan = plan_search(inner)
    except NotAVectorSearch:
        return None  # not a top-k search, or one DuckDB runs whole (then so is the statement)
    return plan if isinstance(plan, VectorTopKPlan) else None
