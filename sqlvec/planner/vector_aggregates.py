"""pgvector's `avg(vector)` and `sum(vector)` as DuckDB aggregates over FLOAT[] lists.

Element-wise, NULL vectors skipped, NULL over no (non-NULL) rows, the result a `vector`.

When the argument's dimension d is known (a vector column of a collection in the statement,
or a cast to `vector(d)`), the aggregate becomes d native DuckDB aggregates, one per element:
`[avg(e[1]), ..., avg(e[d])]`. DuckDB runs those in one vectorized pass (200k rows of 128
dimensions in about 0.3 s). Otherwise the vectors are collected with `list()` and averaged
with lambdas, which checks that every vector has the same dimension (22000, as pgvector) but
is some 25 times slower.

A column is taken to be a vector when a collection of the statement has a vector column of that
name: an alias over a subquery (`SELECT avg(embedding) FROM (SELECT embedding ...) s`) keeps
the name, which is how the kNN subquery form is recognised.
"""

from __future__ import annotations

from sqlglot import exp

from sqlvec.engine.catalog import CollectionSpec
from sqlvec.planner.vector_sql import to_duckdb, vector_result

_LIST = exp.DataType.build("FLOAT[]", dialect="duckdb")
_AGGREGATES: dict[type[exp.Expr], str] = {exp.Avg: "avg", exp.Sum: "sum"}

# Unknown dimension: pgvector's messages for a dimension mismatch (sum reports the two
# dimensions, avg the expected one); duckdb_errors maps both to 22000.
_BY_LAMBDAS = (
    "CASE WHEN len({l}) = 0 THEN NULL "
    "WHEN list_min(list_transform({l}, lambda v: len(v))) "
    "<> list_max(list_transform({l}, lambda v: len(v))) "
    "THEN CAST(error({message}) AS FLOAT[]) "
    "ELSE list_transform(range(1, len({l}[1]) + 1), "
    "lambda i: CAST(list_{fn}(list_transform({l}, lambda v: v[i])) AS FLOAT)) END"
)
_MISMATCH = {
    "avg": "'expected ' || len({l}[1]) || ' dimensions, not ' || {other}",
    "sum": "'different vector dimensions ' || len({l}[1]) || ' and ' || {other}",
}
_OTHER = "list_filter(list_transform({l}, lambda v: len(v)), lambda n: n <> len({l}[1]))[1]"


def vector_aggregates(tree: exp.Expr, specs: list[CollectionSpec]) -> exp.Expr:
    """`avg`/`sum` over vectors rewritten for DuckDB; other aggregates are left alone."""
    dims = {c.name: c.dim for spec in specs for c in spec.vector_columns if c.dim}

    def rewrite(node: exp.Expr) -> exp.Expr:
        function = _AGGREGATES.get(type(node))
        if function is None:
            return node
        argument = node.this
        if isinstance(argument, exp.Column) and argument.name in dims:
            return vector_result(_elementwise(function, argument, dims[argument.name]))
        if isinstance(argument, exp.Cast) and argument.to.this == exp.DataType.Type.VECTOR:
            dim = _cast_dim(argument)
            found = (
                _elementwise(function, argument, dim) if dim else _by_lambdas(function, argument)
            )
            return vector_result(found)
        return node

    if not any(isinstance(n, exp.Avg | exp.Sum) for n in tree.find_all(exp.AggFunc)):
        return tree
    return tree.transform(rewrite)


def _elementwise(function: str, argument: exp.Expr, dim: int) -> exp.Expr:
    value = to_duckdb(argument.copy())
    items = [
        # offset=1: the subscript is already 1-based, as in DuckDB (sqlglot adds 1 otherwise).
        exp.func(
            function,
            exp.Bracket(this=value.copy(), expressions=[exp.Literal.number(i)], offset=1),
        )
        for i in range(1, dim + 1)
    ]
    vector = exp.cast(exp.Array(expressions=items), _LIST)
    empty = exp.EQ(this=exp.Count(this=value.copy()), expression=exp.Literal.number(0))
    return exp.Case(ifs=[exp.If(this=empty, true=exp.null())], default=vector)


def _by_lambdas(function: str, argument: exp.Expr) -> exp.Expr:
    value = exp.cast(to_duckdb(argument.copy()), _LIST).sql("duckdb")
    collected = f"(list({value}) FILTER (WHERE ({value}) IS NOT NULL))"
    other = _OTHER.format(l=collected)
    message = _MISMATCH[function].format(l=collected, other=other)
    text = _BY_LAMBDAS.format(l=collected, fn=function, message=message)
    return exp.maybe_parse(text, dialect="duckdb")


def _cast_dim(cast: exp.Cast) -> int | None:
    sizes = cast.to.expressions
    if len(sizes) == 1 and isinstance(sizes[0], exp.DataTypeParam | exp.Literal):
        try:
            return int(sizes[0].name)
        except ValueError:
            return None
    return None
