"""Output columns of a vector search, computed over the k result rows only.

Each output becomes a `RowProducer` reading the engine's in-memory columns (no DuckDB round
trip on the hot path): a column, the ORDER BY distance already computed by the search, another
distance, a constant, or arithmetic over those.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from sqlvec.engine.catalog import CollectionSpec
from sqlvec.errors import FeatureNotSupported, UndefinedColumn
from sqlvec.parser.nodes import VectorDistance
from sqlvec.planner.logical import Output, UncomputedOutput
from sqlvec.planner.plans import OutputColumn, ResultProjection, RowProducer, RowsContext
from sqlvec.planner.values import (
    ParamTypes,
    arithmetic,
    compile_value,
    is_arithmetic,
    text_cast,
    vector_text,
)
from sqlvec.types import FLOAT8, TEXT, VECTOR_VALUE_TYPES, PgType
from sqlvec.vector_kinds import kind_of


class ProjectionBuilder:
    def __init__(
        self,
        spec: CollectionSpec,
        params: ParamTypes,
        order_distance: exp.Expr | None,
    ) -> None:
        self.spec = spec
        self.params = params
        self.order_distance = order_distance

    def build(self, outputs: tuple[Output, ...]) -> ResultProjection:
        columns: list[OutputColumn] = []
        producers: list[RowProducer] = []
        for output in outputs:
            producer, pg_type, typmod = self.producer(output.expression)
            columns.append(OutputColumn(output.name, pg_type, typmod))
            producers.append(producer)
        query_free = all(self._query_free(output.expression) for output in outputs)
        return ResultProjection(tuple(columns), tuple(producers), query_free)

    def _query_free(self, node: exp.Expr) -> bool:
        while isinstance(node, exp.Paren):
            node = node.this
        if isinstance(node, exp.Column):
            return True
        return self.order_distance is not None and node == self.order_distance

    def producer(self, node: exp.Expr) -> tuple[RowProducer, PgType, int]:
        if isinstance(node, exp.Paren):
            return self.producer(node.this)
        if isinstance(node, exp.Column):
            return self._column(node)
        if isinstance(node, VectorDistance):
            return self._distance(node), FLOAT8, -1
        if is_arithmetic(node) and node.find(exp.Column):
            return self._arithmetic(node)
        if isinstance(node, exp.Cast) and isinstance(node.this, exp.Column) and text_cast(node):
            return self._column_text(node.this)
        if isinstance(node, exp.Neg) and node.find(exp.Column):
            inner, pg_type, _ = self.producer(node.this)
            return (lambda engine, ctx: [_neg(v) for v in inner(engine, ctx)]), pg_type, -1
        if node.find(exp.Column):
            # A function of the rows' values (upper(name), vector_dims(embedding)): DuckDB
            # computes it over the search's rows (search_subquery.searched_first).
            raise UncomputedOutput(f"expression not computed by the search: {node.sql('sqlvec')}")
        evaluate, pg_type = compile_value(node, self.params)
        return (lambda engine, ctx: [evaluate(ctx.params)] * len(ctx.positions)), pg_type, -1

    def _column(self, node: exp.Column) -> tuple[RowProducer, PgType, int]:
        if not self.spec.has_column(node.name):
            raise UndefinedColumn(f'column "{node.sql("sqlvec")}" does not exist')
        column = self.spec.column(node.name)
        name = column.name

        def produce(engine: Any, ctx: RowsContext) -> list[Any]:
            return engine.take(ctx.collection, ctx.positions, name)

        return produce, column.type, column.typmod

    def _column_text(self, node: exp.Column) -> tuple[RowProducer, PgType, int]:
        """`embedding::text`: a vector column's values as pgvector prints them."""
        produce, pg_type, _ = self._column(node)
        text_of = vector_text(pg_type)
        if text_of is None:
            raise UncomputedOutput(f"expression not computed by the search: {node.sql('sqlvec')}")
        return (lambda engine, ctx: [text_of(v) for v in produce(engine, ctx)]), TEXT, -1

    def _distance(self, node: VectorDistance) -> RowProducer:
        if self.order_distance is not None and node == self.order_distance:
            return lambda engine, ctx: ctx.distances.tolist()
        column_side, query_side = node.this, node.expression
        if not isinstance(column_side, exp.Column):
            column_side, query_side = query_side, column_side
        if not isinstance(column_side, exp.Column) or query_side.find(exp.Column):
            raise UncomputedOutput("a distance between two columns is computed by DuckDB")
        column = self.spec.column(column_side.name)
        if not column.is_vector:
            raise FeatureNotSupported(f'column "{column.name}" is not a vector')
        kind = kind_of(column.type)
        kind.check_metric(node.metric, node.operator)
        query, _ = compile_value(query_side, self.params, column.type)
        metric = node.metric

        def produce(engine: Any, ctx: RowsContext) -> list[Any]:
            vector = query(ctx.params)
            if vector is None:
                return [None] * len(ctx.positions)
            row = kind.search_form(vector, column.dim)
            return engine.distances(
                ctx.collection, column.name, ctx.positions, row, metric
            ).tolist()

        return produce

    def _arithmetic(self, node: exp.Expr) -> tuple[RowProducer, PgType, int]:
        left, left_type, _ = self.producer(node.this)
        right, right_type, _ = self.producer(node.expression)
        if {left_type.oid, right_type.oid} & VECTOR_VALUE_TYPES:
            # pgvector's element-wise operators: DuckDB computes them over the search's rows.
            raise UncomputedOutput(f"vector arithmetic: {node.sql('sqlvec')}")
        apply, result_type = arithmetic(node, left_type, right_type)

        def produce(engine: Any, ctx: RowsContext) -> list[Any]:
            pairs = zip(left(engine, ctx), right(engine, ctx), strict=True)
            return [apply(a, b) for a, b in pairs]

        return produce, result_type, -1


def _neg(value: Any) -> Any:
    return None if value is None else -value
