"""Sort(distance) [+ Limit(k)] over a collection becomes one VectorTopK node.

Matches Limit(Sort(Project(Scan|Filter))) and Sort(Project(...)) where the first sort key is a
distance operator between the collection's vector column and a value that does not depend on
the row (a literal, a parameter, a cast of either). Later keys would only break ties between
equal distances; they are rejected rather than silently ignored.
"""

from __future__ import annotations

from sqlglot import exp

from sqlvec.errors import FeatureNotSupported
from sqlvec.parser.nodes import VectorDistance
from sqlvec.planner.logical import Filter, Limit, LogicalNode, Project, Scan, Sort, VectorTopK
from sqlvec.planner.values import check_operator


def vector_topk(plan: LogicalNode) -> LogicalNode:
    limit = plan if isinstance(plan, Limit) else None
    sort = limit.input if limit is not None else plan
    if not isinstance(sort, Sort) or not isinstance(sort.input, Project):
        return plan
    project = sort.input
    source = project.input
    if not isinstance(source, Scan | Filter):
        return plan
    first = sort.keys[0]
    match = _distance_to_constant(first.expression, _scan(source))
    if match is None:
        return plan
    column, query = match
    if len(sort.keys) > 1:
        raise FeatureNotSupported(
            "ORDER BY keys after a vector distance are not supported",
            hint="Order by the distance alone.",
        )
    topk = VectorTopK(
        input=source,
        column=column,
        distance=first.expression,
        query=query,
        descending=first.descending,
        limit=limit.limit if limit else None,
        offset=limit.offset if limit else None,
    )
    return Project(topk, project.outputs)


def _scan(node: Scan | Filter) -> Scan:
    return node if isinstance(node, Scan) else node.input


def _distance_to_constant(expression: exp.Expr, scan: Scan) -> tuple[str, exp.Expr] | None:
    """(vector column, query expression) when `expression` is `column <op> constant`."""
    if not isinstance(expression, VectorDistance):
        return None
    check_operator(expression)
    for column_side, query_side in (
        (expression.this, expression.expression),
        (expression.expression, expression.this),
    ):
        if isinstance(column_side, exp.Column) and not query_side.find(exp.Column):
            spec = scan.collection
            if spec.has_column(column_side.name) and spec.column(column_side.name).is_vector:
                return column_side.name, query_side
    return None
