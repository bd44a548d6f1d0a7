"""Scalar expressions sqlvec evaluates itself: literals, parameters, casts, arithmetic, vectors.

`compile_value` turns an AST node into an `Evaluator` once, at plan time; the evaluator runs on
each Execute with that Bind's parameters. Parameter types are inferred from where a parameter
appears (the vector operand of a distance, a LIMIT, an INSERT column) and reported to the
client in ParameterDescription.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np
from sqlglot import exp

from sqlvec.engine.catalog import ColumnSpec
from sqlvec.engine.coerce import coercer
from sqlvec.engine.search import pairwise
from sqlvec.errors import DivisionByZero, FeatureNotSupported
from sqlvec.parser.nodes import VectorDistance
from sqlvec.planner.plans import Evaluator, Params
from sqlvec.planner.vector_sql import is_vector_type
from sqlvec.sparse import SparseValue, format_sparsevec, sparse_distance
from sqlvec.types import (
    BIT,
    BOOL,
    BY_SQL_NAME,
    FLOAT8,
    HALFVEC,
    INT4,
    INT8,
    SPARSEVEC,
    TEXT,
    UNKNOWN,
    VARCHAR,
    VECTOR,
    VECTOR_VALUE_TYPES,
    PgType,
    type_by_oid,
)
from sqlvec.vector_kinds import coerce_vector_value, kind_of, metric_kind
from sqlvec.vectors import check_same_dimensions, format_vector

# Casts to text of these print the value as its type's output function does.
_TEXT_TYPES = frozenset({TEXT.oid, VARCHAR.oid})
_FORMATTED: dict[int, Callable[[Any], str]] = {
    VECTOR.oid: format_vector,
    HALFVEC.oid: format_vector,
    SPARSEVEC.oid: format_sparsevec,
}

# Parameters converted to the type they stand for when they arrive as text.
_CONVERTED_PARAMETERS = VECTOR_VALUE_TYPES | {INT8.oid, INT4.oid, FLOAT8.oid}


def _divide(a: Any, b: Any) -> Any:
    if b == 0:
        raise DivisionByZero("division by zero")
    return a / b


_ARITHMETIC: dict[type[exp.Expr], Callable[[Any, Any], Any]] = {
    exp.Add: operator.add,
    exp.Sub: operator.sub,
    exp.Mul: operator.mul,
    exp.Div: _divide,
}


class ParamTypes:
    """Types of `$n` parameters: given by the client in Parse, else inferred from context."""

    def __init__(self, given_oids: list[int]) -> None:
        self._types: dict[int, PgType] = {
            i: type_by_oid(oid) for i, oid in enumerate(given_oids) if oid
        }
        self._count = len(given_oids)

    def note(self, index: int, pg_type: PgType) -> None:
        self._count = max(self._count, index + 1)
        self._types.setdefault(index, pg_type)

    def seen(self, index: int) -> None:
        self._count = max(self._count, index + 1)

    def type_of(self, index: int) -> PgType | None:
        return self._types.get(index)

    def resolved(self) -> list[PgType]:
        # Postgres reports a parameter it could not type as text.
        return [self._types.get(i, TEXT) for i in range(self._count)]


def parameter_index(node: exp.Parameter | exp.Placeholder) -> int:
    """0-based index of `$n`."""
    inner = node.this
    text = inner.name if isinstance(inner, exp.Expr) else str(inner)
    return int(text) - 1


def declared_type(data_type: exp.DataType) -> tuple[PgType, int]:
    """(type, typmod) of a SQL type name such as `vector(3)`, `bit(8)`, `bigint`, `text`."""
    if data_type.is_type(exp.DataType.Type.VECTOR) or data_type.this == "VECTOR":
        dims = data_type.expressions
        return VECTOR, int(dims[0].name) if dims else -1
    name = data_type.sql("postgres").lower()
    base = name.split("(")[0].strip()
    if base not in BY_SQL_NAME:
        raise FeatureNotSupported(f"type {name} is not supported")
    pg_type = BY_SQL_NAME[base]
    if (pg_type.oid in VECTOR_VALUE_TYPES or pg_type.oid == VARCHAR.oid) and data_type.expressions:
        return pg_type, int(data_type.expressions[0].name)  # vector(d), varchar(n)
    # As in Postgres, `bit` without a length is bit(1).
    return pg_type, 1 if pg_type.oid == BIT.oid else -1


def compile_value(
    node: exp.Expr, params: ParamTypes, expected: PgType | None = None
) -> tuple[Evaluator, PgType]:
    """An evaluator for a constant expression and the type of what it produces."""
    if isinstance(node, exp.Paren):
        return compile_value(node.this, params, expected)
    if isinstance(node, exp.Parameter | exp.Placeholder):
        return _parameter(node, params, expected)
    if isinstance(node, exp.Null):
        return (lambda _: None), expected or UNKNOWN
    if isinstance(node, exp.Boolean):
        value = node.this
        return (lambda _: value), BOOL
    if isinstance(node, exp.Literal):
        return _literal(node, expected)
    if isinstance(node, exp.Cast):
        return _cast(node, params)
    if isinstance(node, exp.Neg):
        inner, pg_type = compile_value(node.this, params, expected)
        return (lambda p: _negate(inner(p))), pg_type
    if is_arithmetic(node):
        return _arithmetic(node, params)
    if isinstance(node, VectorDistance):
        return _constant_distance(node, params)
    raise FeatureNotSupported(f"expression is not supported here: {node.sql('postgres')}")


def coerce_to(pg_type: PgType, typmod: int = -1, explicit: bool = False) -> Callable[[Any], Any]:
    """Assignment coercion of a value to a type, or an explicit cast (NULL passes through)."""
    if pg_type.oid in VECTOR_VALUE_TYPES:
        dim = typmod if typmod > 0 else None
        return lambda value: (
            None if value is None else coerce_vector_value(pg_type, value, dim, explicit)
        )
    length = typmod if pg_type.oid == VARCHAR.oid and typmod >= 0 else None
    convert = coercer(ColumnSpec("?column?", pg_type, max_length=length), explicit)
    return lambda value: None if value is None else convert(value)


def _parameter(
    node: exp.Parameter | exp.Placeholder, params: ParamTypes, expected: PgType | None
) -> tuple[Evaluator, PgType]:
    index = parameter_index(node)
    if expected is not None and expected.oid != UNKNOWN.oid:
        params.note(index, expected)
    else:
        params.seen(index)
    pg_type = params.type_of(index) or TEXT
    if expected is not None and expected.oid in _CONVERTED_PARAMETERS:
        convert = coerce_to(expected)
        return (lambda p: convert(p[index])), expected
    return (lambda p: p[index]), pg_type


def _literal(node: exp.Literal, expected: PgType | None) -> tuple[Evaluator, PgType]:
    if node.is_string:
        text = node.this
        if expected is not None and expected.oid in VECTOR_VALUE_TYPES:
            vector = coerce_to(expected)(text)
            return (lambda _: vector), expected
        return (lambda _: text), UNKNOWN if expected is None else expected
    number: int | float
    try:
        number = int(node.this)
    except ValueError:
        number = float(node.this)
    pg_type = INT4 if isinstance(number, int) and -(2**31) <= number < 2**31 else INT8
    if isinstance(number, float):
        pg_type = FLOAT8
    return (lambda _: number), pg_type


def _cast(node: exp.Cast, params: ParamTypes) -> tuple[Evaluator, PgType]:
    target, typmod = declared_type(node.to)
    if text_cast(node) and isinstance(node.this, exp.Cast):
        inner, inner_type = compile_value(node.this, params)
        text_of = vector_text(inner_type)
        if text_of is not None:
            # `'[1,2]'::vector::text`: the vector's text form, as its output function prints it.
            return (lambda p: text_of(inner(p))), target
    inner, _ = compile_value(node.this, params, target)
    convert = coerce_to(target, typmod, explicit=True)
    return (lambda p: convert(inner(p))), target


def checked_vector_literals(tree: exp.Expr) -> exp.Expr:
    """`'[1,2]'::vector` (or halfvec) literals of a statement DuckDB runs, checked as pgvector
    checks them and written as it prints them: DuckDB's own cast to FLOAT[] accepts NaN and
    words its errors its own way. `tree` is changed in place."""
    for cast in list(tree.find_all(exp.Cast)):
        literal = cast.this
        if not (isinstance(literal, exp.Literal) and literal.is_string):
            continue
        if not is_vector_type(cast.to):
            continue
        evaluate, pg_type = _cast(cast, ParamTypes([]))
        text_of = vector_text(pg_type)
        assert text_of is not None, "a vector or halfvec prints as text"
        literal.replace(exp.Literal.string(text_of(evaluate([]))))
    return tree


def text_cast(node: exp.Cast) -> bool:
    """A cast to `text` or `varchar` without a length."""
    target, typmod = declared_type(node.to)
    return target.oid in _TEXT_TYPES and typmod < 0


def vector_text(pg_type: PgType) -> Callable[[Any], str | None] | None:
    """How a value of a vector type prints as text (NULL stays NULL); None for other types."""
    text_of = _FORMATTED.get(pg_type.oid)
    if text_of is None:
        return None
    return lambda value: _text_or_null(text_of, value)


def _text_or_null(text_of: Callable[[Any], str], value: Any) -> str | None:
    return None if value is None else text_of(value)


def is_arithmetic(node: exp.Expr) -> bool:
    return type(node) in _ARITHMETIC


def arithmetic(
    node: exp.Expr, left: PgType, right: PgType
) -> tuple[Callable[[Any, Any], Any], PgType]:
    """The operation of `+ - * /` on two operand types, NULL-safe, and its result type.

    Integer division truncates toward zero, as in Postgres (Python's // floors).
    """
    integers = {left.oid, right.oid} <= {INT4.oid, INT8.oid}
    operation = (
        _integer_divide if integers and isinstance(node, exp.Div) else _ARITHMETIC[type(node)]
    )

    def apply(a: Any, b: Any) -> Any:
        if a is None or b is None:
            return None
        return operation(_number(a), _number(b))

    return apply, INT8 if integers else FLOAT8


def _arithmetic(node: exp.Expr, params: ParamTypes) -> tuple[Evaluator, PgType]:
    left, left_type = compile_value(node.this, params)
    right, right_type = compile_value(node.expression, params)
    if {left_type.oid, right_type.oid} & VECTOR_VALUE_TYPES:
        # pgvector's element-wise operators on constants: DuckDB evaluates the statement.
        raise FeatureNotSupported(f"vector arithmetic: {node.sql('postgres')}")
    apply, result_type = arithmetic(node, left_type, right_type)
    return (lambda p: apply(left(p), right(p))), result_type


def operand_type(node: VectorDistance) -> PgType:
    """The type of a distance's constant operands: a cast on either side names it (`$1::halfvec
    <-> '[1,2]'`), else the operator implies it (vector; bit for `<~>` and `<%>`)."""
    for side in (node.this, node.expression):
        if isinstance(side, exp.Cast):
            pg_type, _ = declared_type(side.to)
            if pg_type.oid in VECTOR_VALUE_TYPES:
                return pg_type
    return metric_kind(node.metric).pg_type


def _constant_distance(node: VectorDistance, params: ParamTypes) -> tuple[Evaluator, PgType]:
    pg_type = operand_type(node)
    kind = kind_of(pg_type)
    kind.check_metric(node.metric, node.operator)
    left, _ = compile_value(node.this, params, pg_type)
    right, _ = compile_value(node.expression, params, pg_type)
    metric = node.metric

    def evaluate(p: Params) -> float | None:
        a, b = left(p), right(p)
        if a is None or b is None:
            return None
        check_same_dimensions(len(a), len(b), kind.name)
        if isinstance(a, SparseValue):
            return sparse_distance(a, b, metric)
        return float(pairwise(kind.to_row(a).reshape(1, -1), kind.to_row(b), metric)[0])

    return evaluate, FLOAT8


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return float(value)
    if isinstance(value, np.ndarray):
        raise FeatureNotSupported("arithmetic on vectors is not supported")
    return value


def _integer_divide(a: int, b: int) -> int:
    if b == 0:
        raise DivisionByZero("division by zero")
    quotient = abs(a) // abs(b)
    return quotient if (a >= 0) == (b >= 0) else -quotient


def _negate(value: Any) -> Any:
    return None if value is None else -_number(value)
