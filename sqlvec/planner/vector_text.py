"""`vector::text` in queries DuckDB runs, printed as pgvector prints it.

DuckDB holds vectors as FLOAT[] lists, and its own cast to VARCHAR prints `[4.0, 4.0]`, where
pgvector prints `[4,4]` (each element as Postgres prints a float4). A cast to `text` or
`varchar` of a vector becomes a call of `sqlvec_vector_text`, a function the store registers
with DuckDB (engine.duckdb_functions) that formats with `sqlvec.vectors.format_vector`.

A cast's operand is taken to be a vector when it is a cast to `vector`/`halfvec`, a column
whose name only collections' vector columns bear (the rule `vector_aggregates` follows, so a
vector column keeps its type through a subquery's alias), or `avg`/`sum` of one of those.
"""

from __future__ import annotations

from sqlglot import exp

from sqlvec.engine.catalog import CollectionSpec
from sqlvec.engine.duckdb_functions import VECTOR_TEXT
from sqlvec.planner.vector_sql import is_vector_type
from sqlvec.types import HALFVEC, VECTOR

_LIST = exp.DataType.build("FLOAT[]", dialect="duckdb")
_TEXT_TYPES = (exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR)
_FLOAT_VECTORS = (VECTOR.oid, HALFVEC.oid)


def vector_text_casts(tree: exp.Expr, specs: list[CollectionSpec]) -> exp.Expr:
    """Casts of vectors to text as calls of VECTOR_TEXT; `tree` is changed in place."""
    casts = [c for c in tree.find_all(exp.Cast) if _to_text(c)]
    if not casts:
        return tree
    names = vector_column_names(specs)
    for cast in casts:
        if _is_vector(cast.this, names):
            call = exp.Anonymous(this=VECTOR_TEXT, expressions=[exp.cast(cast.this.copy(), _LIST)])
            if cast is tree:
                return call
            cast.replace(call)
    return tree


def _to_text(cast: exp.Cast) -> bool:
    return cast.to.this in _TEXT_TYPES and not cast.to.expressions  # varchar(n) truncates


def vector_column_names(specs: list[CollectionSpec]) -> set[str]:
    """Names of float vector columns that no other column of these collections bears."""
    vectors = {c.name for s in specs for c in s.columns if c.type.oid in _FLOAT_VECTORS}
    others = {c.name for s in specs for c in s.columns if c.type.oid not in _FLOAT_VECTORS}
    return vectors - others


def _is_vector(node: exp.Expr, names: set[str]) -> bool:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Cast):
        return is_vector_type(node.to)
    if isinstance(node, exp.Column):
        return node.name in names
    if isinstance(node, exp.Avg | exp.Sum):
        return _is_vector(node.this, names)
    if isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.DPipe):  # pgvector's element-wise
        return _is_vector(node.this, names) or _is_vector(node.expression, names)
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower() in _VECTOR_FUNCTIONS
    return False


_VECTOR_FUNCTIONS = frozenset({"l2_normalize", "subvector"})  # pgvector's that return a vector
