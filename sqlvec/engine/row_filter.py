"""Evaluate a compiled WHERE clause (`sqlvec.planner.row_predicate`) over in-memory columns.

SQL's three-valued logic is kept with two masks per node: `true` (the row satisfies it) and
`known` (the result is not NULL). WHERE keeps the rows where the result is true.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Hashable, Iterator
from typing import Any

import numpy as np

from sqlvec.engine.derived_cache import frozen
from sqlvec.engine.rows import CollectionRows
from sqlvec.engine.scalar_columns import NULL_CODE, NumericColumn, ScalarColumn, TextColumn
from sqlvec.planner.plans import Params
from sqlvec.planner.row_predicate import (
    TEXT_OIDS,
    ColumnTruth,
    Compare,
    Conjunction,
    InList,
    IsNull,
    Negation,
    RowPredicate,
)

Masks = tuple[np.ndarray, np.ndarray]  # (true, known)
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def matching_positions(
    rows: CollectionRows, predicate: RowPredicate, params: Params, size: int
) -> np.ndarray:
    """Positions among the first `size` rows where the predicate is true (deleted included).

    Read-only, and the same array for the same predicate and values while the rows are
    unchanged (see `derived_cache`): later steps of a filtered search cache by its identity.
    """
    key = _cache_key(predicate, params, size)
    version = rows.version
    if key is not None:
        cached = rows.derived.get(version, key)
        if cached is not None:
            return cached
    true, _ = _Evaluator(rows, params, size).masks(predicate)
    positions = frozen(np.flatnonzero(true))
    if key is not None:
        rows.derived.put(version, key, positions, positions.nbytes)
    return positions


def _cache_key(predicate: RowPredicate, params: Params, size: int) -> Hashable | None:
    """The predicate with the values it compares with, or None when a value is unhashable."""
    values = tuple(_bound_values(predicate, params))
    try:
        hash(values)
    except TypeError:
        return None
    return ("where", _shape(predicate), values, size)


def _shape(node: RowPredicate) -> Hashable:
    """The predicate without its values. Its evaluators compare by identity and each plan has
    its own, so keyed by them the same WHERE in two statements (a search and its EXPLAIN, or
    two projections) would not share the matching rows, nor what later steps cache by them
    (the Faiss selector, the filter's own indexes)."""
    if isinstance(node, Conjunction):
        return (node.op, tuple(_shape(part) for part in node.parts))
    if isinstance(node, Negation):
        return ("not", _shape(node.part))
    if isinstance(node, Compare):
        return ("compare", node.column, node.op)
    if isinstance(node, InList):
        return ("in", node.column, node.negated, len(node.values))
    return node  # IsNull, ColumnTruth: no values; equal by their fields


def _bound_values(node: RowPredicate, params: Params) -> Iterator[Any]:
    """The values a predicate compares with, in tree order (parameters evaluated)."""
    if isinstance(node, Conjunction):
        for part in node.parts:
            yield from _bound_values(part, params)
    elif isinstance(node, Negation):
        yield from _bound_values(node.part, params)
    elif isinstance(node, Compare):
        yield _typed(node.value(params))
    elif isinstance(node, InList):
        yield tuple(_typed(evaluate(params)) for evaluate in node.values)


def _typed(value: Any) -> tuple[type, Any]:
    # 1 == 1.0 == True as dict keys; a predicate may treat them differently (text vs number).
    return type(value), value


class _Evaluator:
    def __init__(self, rows: CollectionRows, params: Params, size: int) -> None:
        self._rows = rows
        self._params = params
        self._size = size

    def masks(self, node: RowPredicate) -> Masks:
        if isinstance(node, Conjunction):
            return self._conjunction(node)
        if isinstance(node, Negation):
            true, known = self.masks(node.part)
            return ~true & known, known
        if isinstance(node, IsNull):
            nulls = self._nulls(node.column)
            return (~nulls if node.negated else nulls), self._everything()
        if isinstance(node, ColumnTruth):
            column = self._column(node.column)
            assert isinstance(column, NumericColumn)
            known = ~column.nulls
            return column.values.astype(bool) & known, known
        if isinstance(node, Compare):
            return self._compare(node.column, node.op, node.value(self._params))
        return self._in_list(node)

    def _conjunction(self, node: Conjunction) -> Masks:
        parts = [self.masks(part) for part in node.parts]
        true, known = parts[0]
        for other_true, other_known in parts[1:]:
            if node.op == "and":
                # false wins over NULL: a known false on either side makes the AND known
                known = (known & other_known) | (known & ~true) | (other_known & ~other_true)
                true = true & other_true
            else:
                known = (known & other_known) | true | other_true
                true = true | other_true
        return true, known

    def _compare(self, name: str, op: str, value: Any) -> Masks:
        column = self._column(name)
        if value is None:
            nothing = np.zeros(self._size, dtype=bool)
            return nothing, nothing
        if isinstance(column, TextColumn):
            known = column.codes != NULL_CODE
            code = column.code_of(value)
            equal = column.codes == code if code is not None else np.zeros(self._size, bool)
            true = equal if op == "=" else ~equal & known
            return true, known
        known = ~column.nulls
        return _COMPARE[op](column.values, value) & known, known

    def _in_list(self, node: InList) -> Masks:
        column = self._column(node.column)
        values = [evaluate(self._params) for evaluate in node.values]
        present = [v for v in values if v is not None]
        if isinstance(column, TextColumn):
            codes = [c for c in (column.code_of(v) for v in present) if c is not None]
            member, known = np.isin(column.codes, codes), column.codes != NULL_CODE
        else:
            member, known = np.isin(column.values, present), ~column.nulls
        member &= known
        if len(present) < len(values):
            # x IN (..., NULL) is true or NULL, never false; NOT IN with a NULL is never true
            known = member.copy()
        if node.negated:
            return ~member & known, known
        return member, known

    def _column(self, name: str) -> ScalarColumn:
        rows = self._rows
        if name == rows.spec.id_column.name:
            ids = rows.ids(self._size)
            return NumericColumn(ids, np.zeros(len(ids), dtype=bool))
        text = rows.spec.column(name).type.oid in TEXT_OIDS
        return rows.scalar_column(name, self._size, text)

    def _nulls(self, name: str) -> np.ndarray:
        column = self._column(name)
        if isinstance(column, TextColumn):
            return column.codes == NULL_CODE
        return column.nulls

    def _everything(self) -> np.ndarray:
        return np.ones(self._size, dtype=bool)
