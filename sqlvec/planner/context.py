"""What planning a statement can see: the catalog, parameter types, session constants."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from sqlglot import exp

from sqlvec.engine.catalog import CollectionSpec
from sqlvec.errors import FeatureNotSupported
from sqlvec.parser.nodes import VectorDistance
from sqlvec.planner.values import ParamTypes, declared_type, operand_type, parameter_index
from sqlvec.types import BY_OID, INT8, PgType


class Catalog(Protocol):
    def has_collection(self, name: str) -> bool: ...

    def spec(self, name: str) -> CollectionSpec: ...

    def collection_names(self) -> list[str]: ...


@dataclass
class PlanContext:
    catalog: Catalog
    params: ParamTypes
    constants: Mapping[str, str]  # session functions: version(), current_database(), ...
    # Vector searches run exactly in DuckDB instead of over the in-memory copy: inside a
    # transaction block that wrote the collection, only DuckDB sees the block's rows.
    exact_vectors: bool = False


_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


def infer_parameter_types(tree: exp.Expr, specs: list[CollectionSpec], ctx: PlanContext) -> None:
    """Type `$n` from where it stands: compared with a column, in LIMIT/OFFSET, in a cast."""
    for parameter in tree.find_all(exp.Parameter):
        index = parameter_index(parameter)
        parent = parameter.parent
        if isinstance(parent, exp.Limit | exp.Offset):
            ctx.params.note(index, INT8)
        elif isinstance(parent, VectorDistance):
            other = parent.expression if parent.this is parameter else parent.this
            ctx.params.note(index, _column_type(other, specs) or operand_type(parent))
        elif isinstance(parent, exp.Cast):
            _note_cast(index, parent, ctx)  # `id = $2::INTEGER` (SQLAlchemy): $2 is int4
        elif isinstance(parent, _COMPARISONS):
            other = parent.expression if parent.this is parameter else parent.this
            column_type = _column_type(other, specs)
            if column_type is not None:
                ctx.params.note(index, column_type)
        ctx.params.seen(index)


def _note_cast(index: int, cast: exp.Cast, ctx: PlanContext) -> None:
    try:
        pg_type = _cast_type(cast.to)
    except FeatureNotSupported:
        return  # a type sqlvec does not store (regclass, ...): typed by DuckDB's description
    ctx.params.note(index, pg_type)


def _cast_type(data_type: exp.DataType) -> PgType:
    """The type a cast names; `vector[]` and `real[][]` are arrays of the element type (a
    Postgres array type has any number of dimensions), so `unnest($1::vector[])` decodes its
    parameter with the array codec, as `_vector`."""
    if not data_type.is_type(exp.DataType.Type.ARRAY):
        return declared_type(data_type)[0]
    element = data_type.expressions[0] if data_type.expressions else None
    while isinstance(element, exp.DataType) and element.is_type(exp.DataType.Type.ARRAY):
        element = element.expressions[0] if element.expressions else None
    if not isinstance(element, exp.DataType):
        raise FeatureNotSupported(f"type {data_type.sql('postgres')} is not supported")
    array = BY_OID.get(declared_type(element)[0].array_oid)
    if array is None:
        raise FeatureNotSupported(f"type {data_type.sql('postgres')} is not supported")
    return array


def _column_type(node: exp.Expr, specs: list[CollectionSpec]) -> PgType | None:
    if not isinstance(node, exp.Column):
        return None
    for spec in specs:
        if spec.has_column(node.name):
            return spec.column(node.name).type
    return None
