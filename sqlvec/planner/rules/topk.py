"""Sort(distance) [+ Limit(k)] over a collection becomes one VectorTopK node.

Matches Limit(Sort(Project(Scan|Filter))) and Sort(Project(...)) where the first sort key is a
distance operator between the collection's vector column and a value that does not depend on
the row (a literal, a parameter, a cast of either). Later keys would only break ties between
equal distances; they are rejected rather than silently ignored.
"""

from __future__ import annotations

from sqlglot import exp

from sqlvec.parser.nodes import VectorDistance
from sqlvec.planner.logical import (
    Filter,
    Limit,
    LogicalNode,
    NotAVectorSearch,
    Project,
    Scan,
    Sort,
    VectorTopK,
)
from sqlvec.vector_kinds import kind_of


def vector_topk(plan: LogicalNode) -> LogicalNode:
    limit = plan if isinstance(plan, Limit) else None
    sort = limit.input if limit is not None else plan
    if not isinstance(sort, Sort) or not isinstance(sort.input, Project):
        return plan
    project = sort.input
    source = project.input
    if not isinstance(source, Scan | Filter):
        return plan
    if isinstance(source, Filter) and source.predicate.find(VectorDistance):
        return plan  # a distance in WHERE that vector_range did not take: DuckDB
    first = sort.keys[0]
    monotone = _monotone_distance(first.expression, first.descending)
    if monotone is None:
        return plan
    distance, descending = monotone
    match = _distance_to_constant(distance, _scan(source))
    if match is None:
        return plan
    column, query = match
    if len(sort.keys) > 1:
        raise NotAVectorSearch("ORDER BY keys after a vector distance")
    topk = VectorTopK(
        input=source,
        column=column,
        distance=distance,
        query=query,
        descending=descending,
        limit=limit.limit if limit else None,
        offset=limit.offset if limit else None,
    )
    return Project(topk, project.outputs)


def _monotone_distance(key: exp.Expr | None, descending: bool) -> tuple[exp.Expr, bool] | None:
    """The distance a sort key orders by, and the direction: `1 - (e <=> q) DESC` is
    `e <=> q ASC`, `-(e <#> q) DESC` is `e <#> q ASC`, as similarity forms are written."""
    if key is None:
        return None
    if isinstance(key, exp.Paren):
        return _monotone_distance(key.this, descending)
    if isinstance(key, VectorDistance):
        return key, descending
    if isinstance(key, exp.Neg):
        return _monotone_distance(key.this, not descending)
    left, right = key.args.get("this"), key.args.get("expression")
    if isinstance(key, exp.Sub) and _number(left) is not None:
        return _monotone_distance(right, not descending)
    if isinstance(key, exp.Add | exp.Sub) and _number(right) is not None:
        return _monotone_distance(left, descending)
    if isinstance(key, exp.Add) and _number(left) is not None:
        return _monotone_distance(right, descending)
    if isinstance(key, exp.Mul):
        for factor, inner in ((right, left), (left, right)):
            value = _number(factor)
            if value:
                return _monotone_distance(inner, descending if value > 0 else not descending)
    return None


def _scalar_subquery(node: exp.Expr) -> bool:
    """`(SELECT embedding FROM docs WHERE id = 7)`: a search by a stored vector."""
    inner = node.this if isinstance(node, exp.Paren) else node
    return isinstance(inner, exp.Subquery)


def _number(node: exp.Expr | None) -> float | None:
    """A numeric constant's value (`1`, `-1`, `(2.5)`), else None."""
    if isinstance(node, exp.Paren):
        return _number(node.this)
    if isinstance(node, exp.Neg):
        inner = _number(node.this)
        return -inner if inner is not None else None
    if isinstance(node, exp.Literal) and not node.is_string:
        return float(node.this)
    return None


def _scan(node: Scan | Filter) -> Scan:
    return node if isinstance(node, Scan) else node.input


def _distance_to_constant(expression: exp.Expr, scan: Scan) -> tuple[str, exp.Expr] | None:
    """(vector column, query expression) when `expression` is `column <op> constant`."""
    if not isinstance(expression, VectorDistance):
        return None
    for column_side, query_side in (
        (expression.this, expression.expression),
        (expression.expression, expression.this),
    ):
        constant = not query_side.find(exp.Column) or _scalar_subquery(query_side)
        if isinstance(column_side, exp.Column) and constant:
            spec = scan.collection
            if spec.has_column(column_side.name) and spec.column(column_side.name).is_vector:
                kind = kind_of(spec.column(column_side.name).type)
                kind.check_metric(expression.metric, expression.operator)
                return column_side.name, query_side
    return None
