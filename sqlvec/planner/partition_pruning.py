"""A predicate on a collection's partition key, as the key values a search is limited to.

`tenant = 'x'`, `'x' = tenant` and `tenant IN ('x', 'y')`, alone or as one conjunct of an AND,
fix the key: only the partitions those values hash to can hold matching rows. The predicate
itself still runs (in DuckDB) within them. Any other shape (OR, a range, a function of the
key) leaves every partition searched.
"""

from __future__ import annotations

from sqlglot import exp

from sqlvec.engine.catalog import CollectionSpec
from sqlvec.engine.partition_key import key_column
from sqlvec.planner.plans import Evaluator
from sqlvec.planner.values import ParamTypes, compile_value


def key_values(
    predicate: exp.Expr | None, spec: CollectionSpec, params: ParamTypes
) -> tuple[Evaluator, ...] | None:
    """Evaluators of the key values WHERE allows, or None when it does not fix the key."""
    key = key_column(spec)
    if key is None or predicate is None:
        return None
    conjuncts = predicate.flatten() if isinstance(predicate, exp.And) else [predicate]
    for conjunct in conjuncts:
        values = _fixed_values(_unparen(conjunct), key)
        if values is not None:
            pg_type = spec.column(key).type
            return tuple(compile_value(v, params, pg_type)[0] for v in values)
    return None


def _fixed_values(node: exp.Expr, key: str) -> list[exp.Expr] | None:
    if isinstance(node, exp.EQ):
        for column, value in ((node.this, node.expression), (node.expression, node.this)):
            if _is_key(column, key) and _constant(value):
                return [value]
    if isinstance(node, exp.In) and _is_key(node.this, key) and not node.args.get("query"):
        values = list(node.expressions)
        if values and all(_constant(v) for v in values) and not node.args.get("unnest"):
            return values
    return None


def _is_key(node: exp.Expr, key: str) -> bool:
    return isinstance(_unparen(node), exp.Column) and _unparen(node).name == key


def _constant(node: exp.Expr) -> bool:
    return not node.find(exp.Column, exp.Subquery, exp.Select)


def _unparen(node: exp.Expr) -> exp.Expr:
    while isinstance(node, exp.Paren):
        node = node.this
    return node
