"""WHERE clauses simple enough to evaluate over the engine's in-memory columns.

A filtered kNN that asks DuckDB which rows qualify pays about 1 ms per query before any search
starts. Comparisons of a column with a constant or a parameter, IN lists, IS [NOT] NULL,
BETWEEN, and AND / OR / NOT over them are compiled here into a small tree that the engine
evaluates with numpy over the rows it already keeps in memory (tens of microseconds). Any other
predicate returns None and keeps the DuckDB path, which stays the reference for semantics.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from sqlvec.engine.catalog import CollectionSpec, ColumnSpec
from sqlvec.errors import SqlvecError
from sqlvec.planner.plans import Evaluator
from sqlvec.planner.values import ParamTypes, compile_value
from sqlvec.types import BOOL, FLOAT4, FLOAT8, INT2, INT4, INT8, TEXT, VARCHAR

NUMERIC_OIDS = frozenset(t.oid for t in (INT2, INT4, INT8, FLOAT4, FLOAT8, BOOL))
TEXT_OIDS = frozenset(t.oid for t in (TEXT, VARCHAR))
_FLIPPED = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_OPERATORS: dict[type[exp.Expr], str] = {
    exp.EQ: "=",
    exp.NEQ: "<>",
    exp.LT: "<",
    exp.LTE: "<=",
    exp.GT: ">",
    exp.GTE: ">=",
}


@dataclass(frozen=True)
class Compare:
    column: str
    op: str  # = <> < <= > >=
    value: Evaluator


@dataclass(frozen=True)
class InList:
    column: str
    values: tuple[Evaluator, ...]
    negated: bool = False


@dataclass(frozen=True)
class IsNull:
    column: str
    negated: bool = False


@dataclass(frozen=True)
class ColumnTruth:
    """A bare boolean column used as a predicate."""

    column: str


@dataclass(frozen=True)
class Conjunction:
    op: str  # "and" | "or"
    parts: tuple[RowPredicate, ...]


@dataclass(frozen=True)
class Negation:
    part: RowPredicate


RowPredicate = Compare | InList | IsNull | ColumnTruth | Conjunction | Negation


class _Unsupported(Exception):
    """This predicate (or a part of it) is left to DuckDB."""


def compile_row_predicate(
    predicate: exp.Expr, spec: CollectionSpec, alias: str | None, params: ParamTypes
) -> RowPredicate | None:
    """The predicate as a tree the engine evaluates in memory, or None to leave it to DuckDB."""
    try:
        return _Compiler(spec, alias, params).compile(predicate)
    except (_Unsupported, SqlvecError):
        return None


class _Compiler:
    def __init__(self, spec: CollectionSpec, alias: str | None, params: ParamTypes) -> None:
        self._spec = spec
        self._qualifiers = {spec.name, alias} if alias else {spec.name}
        self._params = params

    def compile(self, node: exp.Expr) -> RowPredicate:
        if isinstance(node, exp.Paren):
            return self.compile(node.this)
        if isinstance(node, exp.And | exp.Or):
            op = "and" if isinstance(node, exp.And) else "or"
            return Conjunction(op, (self.compile(node.this), self.compile(node.expression)))
        if isinstance(node, exp.Not):
            return self._negated(node.this)
        if type(node) in _OPERATORS:
            return self._comparison(node)
        if isinstance(node, exp.In):
            return self._in_list(node, negated=bool(node.args.get("negate")))
        if isinstance(node, exp.Is):
            negated = bool(node.args.get("negate"))
            return IsNull(self._column(node.this).name, negated) if _is_null(node) else _no()
        if isinstance(node, exp.Between):
            return self._between(node)
        if isinstance(node, exp.Column):
            column = self._column(node)
            return ColumnTruth(column.name) if column.type.oid == BOOL.oid else _no()
        return _no()

    def _negated(self, inner: exp.Expr) -> RowPredicate:
        inner = inner.this if isinstance(inner, exp.Paren) else inner
        if isinstance(inner, exp.Is) and _is_null(inner):
            return IsNull(self._column(inner.this).name, not inner.args.get("negate"))
        if isinstance(inner, exp.In):
            return self._in_list(inner, negated=not inner.args.get("negate"))
        return Negation(self.compile(inner))

    def _comparison(self, node: exp.Expr) -> Compare:
        op = _OPERATORS[type(node)]
        left, right = node.this, node.expression
        if not isinstance(left, exp.Column):
            left, right, op = right, left, _FLIPPED[op]
        column = self._column(left)
        if column.type.oid in TEXT_OIDS and op not in ("=", "<>"):
            _no()  # ordering of text follows DuckDB's collation: leave it to DuckDB
        return Compare(column.name, op, self._value(right, column))

    def _in_list(self, node: exp.In, negated: bool) -> InList:
        if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
            _no()
        column = self._column(node.this)
        values = tuple(self._value(v, column) for v in node.expressions)
        return InList(column.name, values, negated)

    def _between(self, node: exp.Between) -> RowPredicate:
        column = self._column(node.this)
        if column.type.oid not in NUMERIC_OIDS:
            _no()
        low = Compare(column.name, ">=", self._value(node.args["low"], column))
        high = Compare(column.name, "<=", self._value(node.args["high"], column))
        return Conjunction("and", (low, high))

    def _column(self, node: exp.Expr) -> ColumnSpec:
        if not isinstance(node, exp.Column) or (node.table and node.table not in self._qualifiers):
            _no()
        assert isinstance(node, exp.Column)
        names = {c.name: c for c in self._spec.columns}
        column = names.get(node.name)
        if column is None or column.is_vector:
            _no()
        assert column is not None
        if column.type.oid not in NUMERIC_OIDS | TEXT_OIDS:
            _no()
        return column

    def _value(self, node: exp.Expr, column: ColumnSpec) -> Evaluator:
        if isinstance(node, exp.Literal) and node.is_string != (column.type.oid in TEXT_OIDS):
            _no()  # '5' against a number, 5 against text: Postgres' casts, DuckDB's job
        if not _is_constant(node, column):
            _no()
        evaluate, _ = compile_value(node, self._params, column.type)
        return evaluate


def _is_constant(node: exp.Expr, column: ColumnSpec) -> bool:
    """A literal, a parameter, NULL, a negative number, or true/false against a bool column."""
    if isinstance(node, exp.Literal | exp.Parameter | exp.Placeholder | exp.Null):
        return True
    if isinstance(node, exp.Neg):
        return isinstance(node.this, exp.Literal)
    return isinstance(node, exp.Boolean) and column.type.oid == BOOL.oid


def _is_null(node: exp.Is) -> bool:
    return isinstance(node.expression, exp.Null)


def _no() -> RowPredicate:
    raise _Unsupported
