"""A distance bound in WHERE becomes one VectorRange node: a range search.

Matches [Limit]([Sort](Project(Filter(Scan)))) where one conjunct of WHERE caps a distance
between the collection's vector column and a constant from above: `e <-> q < r`,
`e <#> q <= -0.5` (inner product at least 0.5), `1 - (e <=> q) > 0.8` (cosine similarity above
0.8). The other conjuncts stay a scalar filter. A Sort must be by that same distance (or a
similarity form of it), or by the same operator on the same column to another constant
(`ORDER BY e <-> $2` beside `e <-> $1 < r`: a driver sends a value given twice as two
parameters), which the executor compares with the bound's query vector; any other ORDER BY,
several distance conjuncts, aggregates or a lower bound (`e <-> q > r`) leave the plan alone,
and DuckDB runs the query exactly.
"""

from __future__ import annotations

from sqlglot import exp

from sqlvec.parser.nodes import VectorDistance
from sqlvec.planner.logical import (
    DistanceBound,
    Filter,
    Limit,
    LogicalNode,
    Project,
    Scan,
    Sort,
    VectorRange,
)
from sqlvec.planner.rules.topk import (
    _distance_to_constant,
    _monotone_distance,
    _number,
    _scalar_subquery,
)

_COMPARISONS: dict[type[exp.Expr], str] = {exp.LT: "<", exp.LTE: "<=", exp.GT: ">", exp.GTE: ">="}
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def vector_range(plan: LogicalNode) -> LogicalNode:
    limit = plan if isinstance(plan, Limit) else None
    below = limit.input if limit is not None else plan
    sort = below if isinstance(below, Sort) else None
    project = sort.input if sort is not None else below
    if not isinstance(project, Project) or not isinstance(project.input, Filter):
        return plan
    if any(o.expression.find(exp.AggFunc) for o in project.outputs):
        return plan  # COUNT(*) over a range and the like: DuckDB
    scan = project.input.input
    conjuncts = (
        list(project.input.predicate.flatten())
        if isinstance(project.input.predicate, exp.And)
        else [project.input.predicate]
    )
    ranged = [c for c in conjuncts if c.find(VectorDistance)]
    if len(ranged) != 1:
        return plan
    found = _bound(_unparen(ranged[0]), scan)
    if found is None:
        return plan
    distance, bound = found
    match = _distance_to_constant(distance, scan)
    assert match is not None  # _bound checked it
    descending = False
    order_query: exp.Expr | None = None
    if sort is not None:
        first = _monotone_distance(sort.keys[0].expression, sort.keys[0].descending)
        if len(sort.keys) > 1 or first is None:
            return plan
        if first[0] != distance:
            order_query = _other_query(first[0], distance, match, scan)
            if order_query is None:
                return plan
        descending = first[1]
    rest = [c for c in conjuncts if c is not ranged[0]]
    source: Scan | Filter = Filter(scan, exp.and_(*rest)) if rest else scan
    node = VectorRange(
        input=source,
        column=match[0],
        distance=distance,
        query=match[1],
        bound=bound,
        ordered=sort is not None,
        descending=descending,
        limit=limit.limit if limit else None,
        offset=limit.offset if limit else None,
        order_query=order_query,
    )
    return Project(node, project.outputs)


def _other_query(
    order: exp.Expr, distance: exp.Expr, match: tuple[str, exp.Expr], scan: Scan
) -> exp.Expr | None:
    """The ORDER BY's query vector when `order` is the bound's distance (same operator, same
    column) to another constant or parameter; None otherwise. Scalar subqueries are left to
    DuckDB: their value is only known by running them."""
    other = _distance_to_constant(order, scan)
    if other is None or type(order) is not type(distance) or other[0] != match[0]:
        return None
    if _scalar_subquery(other[1]) or _scalar_subquery(match[1]):
        return None
    return other[1]


def _bound(predicate: exp.Expr, scan: Scan) -> tuple[exp.Expr, DistanceBound] | None:
    """(the distance, the bound) when `predicate` caps a distance to a constant from above."""
    comparison = _COMPARISONS.get(type(predicate))
    if comparison is None:
        return None
    left, right = predicate.this, predicate.expression
    if not left.find(VectorDistance):
        left, right, comparison = right, left, _FLIPPED[comparison]
    if right.find(VectorDistance) or right.find(exp.Column) or right.find(exp.Subquery):
        return None
    steps = _linear_steps(left)
    if steps is None:
        return None
    distance, transform = steps
    if _distance_to_constant(distance, scan) is None:
        return None
    sign = 1
    for step, value in transform:
        if step in ("neg", "rsub") or (step == "mul" and value < 0):
            sign = -sign
    upper = comparison in ("<", "<=") if sign > 0 else comparison in (">", ">=")
    if not upper:
        return None
    return distance, DistanceBound(tuple(transform), comparison, right)


def _linear_steps(node: exp.Expr) -> tuple[exp.Expr, list[tuple[str, float]]] | None:
    """(the distance, the steps from it to `node`) when `node` is linear in one distance."""
    node = _unparen(node)
    if isinstance(node, VectorDistance):
        return node, []
    inner: exp.Expr | None = None
    step: tuple[str, float] | None = None
    left, right = node.args.get("this"), node.args.get("expression")
    if isinstance(node, exp.Neg):
        inner, step = left, ("neg", 0.0)
    elif isinstance(node, exp.Sub) and _number(left) is not None:
        inner, step = right, ("rsub", _number(left) or 0.0)
    elif isinstance(node, exp.Sub | exp.Add | exp.Mul) and _number(right) is not None:
        inner, step = left, (node.key, _number(right) or 0.0)
    elif isinstance(node, exp.Add | exp.Mul) and _number(left) is not None:
        inner, step = right, (node.key, _number(left) or 0.0)
    if inner is None or step is None or (step[0] == "mul" and step[1] == 0):
        return None
    found = _linear_steps(inner)
    if found is None:
        return None
    return found[0], [*found[1], step]


def _unparen(node: exp.Expr) -> exp.Expr:
    while isinstance(node, exp.Paren):
        node = node.this
    return node
