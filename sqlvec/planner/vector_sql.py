"""pgvector's functions and operators as plain SQL expressions.

Two rewrites: `normalize_functions` turns pgvector's distance functions into the operators
(`l2_distance(a, b)` is `a <-> b`), so the vector search rules see one form; `to_duckdb`
turns operators and vector casts into DuckDB list functions, so a query the vector search path
does not take (a range predicate, a GROUP BY over distances, a join) still runs, exactly, in
DuckDB.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from sqlvec.errors import FeatureNotSupported
from sqlvec.parser.nodes import (
    CosineDistance,
    HammingDistance,
    JaccardDistance,
    L1Distance,
    L2Distance,
    NegInnerProduct,
    VectorDistance,
)

_DISTANCE_FUNCTIONS: dict[str, type[VectorDistance]] = {
    "l2_distance": L2Distance,
    "cosine_distance": CosineDistance,
    "l1_distance": L1Distance,
    "hamming_distance": HammingDistance,
    "jaccard_distance": JaccardDistance,
}
_SQLGLOT_DISTANCES: dict[type[exp.Expr], type[VectorDistance]] = {
    exp.CosineDistance: CosineDistance,
    exp.EuclideanDistance: L2Distance,
}
_DUCKDB_DISTANCES = {
    "l2": "list_distance",
    "ip": "list_negative_inner_product",
    "cosine": "list_cosine_distance",
}
_LIST = exp.DataType.build("FLOAT[]", dialect="duckdb")
# Where a function became an operator, the name Postgres gives its output column (`SELECT
# l2_distance(a, b)` is a column named l2_distance, `SELECT a <-> b` one named ?column?).
FUNCTION_NAME = "sqlvec_function_name"
_BIT = exp.DataType.build("BIT", dialect="duckdb")


def normalize_functions(tree: exp.Expr) -> exp.Expr:
    """pgvector's distance functions as operators: the form the vector search rules match."""

    def rewrite(node: exp.Expr) -> exp.Expr:
        rewritten = _as_operator(node)
        if rewritten is not node:
            name = _anonymous_name(node)
            if name is None and isinstance(node, exp.Func):
                name = node.sql_name().lower()  # sqlglot's own CosineDistance
            rewritten.meta[FUNCTION_NAME] = name
        return rewritten

    names = {*_DISTANCE_FUNCTIONS, "inner_product"}
    calls = any(_anonymous_name(n) in names for n in tree.find_all(exp.Anonymous))
    if not calls and not tree.find(*_SQLGLOT_DISTANCES):
        return tree
    return tree.copy().transform(rewrite)


def _as_operator(node: exp.Expr) -> exp.Expr:
    # sqlglot knows two of them as functions of its own (BigQuery's and others').
    for builtin, operator in _SQLGLOT_DISTANCES.items():
        if type(node) is builtin:
            return operator(this=node.this.copy(), expression=node.expression.copy())
    name = _anonymous_name(node)
    if name is None or len(node.expressions) != 2:
        return node
    left, right = (e.copy() for e in node.expressions)
    if name in _DISTANCE_FUNCTIONS:
        return _DISTANCE_FUNCTIONS[name](this=left, expression=right)
    if name == "inner_product":
        return exp.Neg(this=exp.Paren(this=NegInnerProduct(this=left, expression=right)))
    return node


def to_duckdb(tree: exp.Expr) -> exp.Expr:
    """Vector operators, functions and casts as DuckDB list expressions (FLOAT[])."""

    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, VectorDistance):
            return _distance(node)
        if isinstance(node, exp.Cast) and is_vector_type(node.to):
            return exp.cast(node.this, _LIST)
        if isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.BIT:
            return exp.cast(node.this, _BIT)  # DuckDB's BIT takes no length
        if isinstance(node, exp.Cast) and _is_varchar_n(node.to):
            return _truncated(node)
        if isinstance(node, exp.Cast) and _is_vector_array(node.to):
            return exp.cast(node.this, exp.DataType.build("FLOAT[][]", dialect="duckdb"))
        name = _anonymous_name(node)
        if name == "vector_dims" and len(node.expressions) == 1:
            return exp.func("len", _as_list(node.expressions[0]))
        if name == "vector_norm" and len(node.expressions) == 1:
            return _norm(_as_list(node.expressions[0]))
        if name == "l2_normalize" and len(node.expressions) == 1:
            return vector_result(_template(_NORMALIZE, v=_as_list(node.expressions[0])))
        if name == "subvector" and len(node.expressions) == 3:
            vector, start, count = node.expressions
            return vector_result(_template(_SUBVECTOR, v=_as_list(vector), s=start, n=count))
        if name == "binary_quantize" and len(node.expressions) == 1:
            return _template(_BINARY_QUANTIZE, v=_as_list(node.expressions[0]))
        return node

    return _bottom_up(tree.copy(), rewrite)


def _bottom_up(tree: exp.Expr, rewrite: Callable[[exp.Expr], exp.Expr]) -> exp.Expr:
    """`rewrite` applied to every node after its children (sqlglot's `transform` goes top
    down and does not enter what it replaced: `vector_dims(subvector(...))` needs both)."""
    for node in reversed(list(tree.dfs())):
        replaced = rewrite(node)
        if replaced is node:
            continue
        if node is tree:
            return replaced  # the root is visited last
        node.replace(replaced)
    return tree


def vector_arithmetic(tree: exp.Expr, vector_columns: set[str]) -> exp.Expr:
    """pgvector's element-wise `+ - *` and `||` (concatenation) where an operand is a vector,
    as DuckDB list expressions; after `to_duckdb`, whose list casts mark vector operands
    (with `vector_columns`, the columns known to hold vectors). Innermost first, so that
    `a + b - c` sees `a + b` as a vector."""
    for node in reversed(list(tree.find_all(*_ELEMENTWISE))):
        left, right = node.this, node.expression
        if not (_vector_operand(left, vector_columns) or _vector_operand(right, vector_columns)):
            continue
        a, b = _list_operand(left), _list_operand(right)
        if isinstance(node, exp.DPipe):
            result = vector_result(exp.func("list_concat", a, b))
        else:
            result = vector_result(_template(_ELEMENTWISE[type(node)], a=a, b=b))
        if node is tree:
            return result
        node.replace(result)
    return tree


def _distance(node: VectorDistance) -> exp.Expr:
    if node.metric in ("hamming", "jaccard"):
        return _bit_distance(node)
    if node.metric == "l1":
        return _template(_L1, a=_as_list(node.this), b=_as_list(node.expression))
    function = _DUCKDB_DISTANCES.get(node.metric)
    if function is None:
        raise FeatureNotSupported(f"operator {node.operator} is not supported yet")
    call = exp.func(function, _as_list(node.this), _as_list(node.expression))
    # pgvector's distances are float8; DuckDB's list functions return the element type.
    return exp.cast(call, exp.DataType.build("DOUBLE"))


# DuckDB has no list function for these two: spelled out with its lambdas.
_L1 = (
    "CAST(list_sum(list_transform(range(1, len({a}) + 1), "
    "lambda i: abs({a}[i] - {b}[i]))) AS DOUBLE)"
)
_NORMALIZE = (
    "CASE WHEN list_inner_product({v}, {v}) = 0 THEN {v} "
    "ELSE list_transform({v}, lambda x: CAST(x / sqrt(list_inner_product({v}, {v})) AS FLOAT)) END"
)


# pgvector's subvector(v, start, count): 1-based, clipped to the vector, at least 1 element.
_SUBVECTOR = (
    "CASE WHEN {n} < 1 OR {s} > len({v}) OR least({s} + {n}, len({v}) + 1) - greatest({s}, 1) < 1 "
    "THEN error('vector must have at least 1 dimension') "
    "ELSE list_slice({v}, greatest({s}, 1), least({s} + {n}, len({v}) + 1) - 1) END"
)
_BINARY_QUANTIZE = (
    "CAST(array_to_string(list_transform({v}, lambda x: CASE WHEN x > 0 THEN '1' ELSE '0' END),"
    " '') AS BIT)"
)
# Element by element, as pgvector: operands of one dimension, no result beyond float4's range.
_OPERATION = (
    "CASE WHEN len({{a}}) <> len({{b}}) THEN "
    "error('different vector dimensions ' || len({{a}}) || ' and ' || len({{b}})) "
    "ELSE list_transform(list_zip({{a}}, {{b}}), lambda x: CASE WHEN isinf(x[1] {op} x[2]) "
    "THEN error('value out of range: overflow') ELSE x[1] {op} x[2] END) END"
)
_ELEMENTWISE: dict[type[exp.Expr], str] = {
    exp.Add: _OPERATION.format(op="+"),
    exp.Sub: _OPERATION.format(op="-"),
    exp.Mul: _OPERATION.format(op="*"),
    exp.DPipe: "",  # list_concat
}
_VECTOR_RESULT = "sqlvec_vector_result"  # meta mark: this DuckDB expression is a vector


def vector_result(node: exp.Expr) -> exp.Expr:
    """`node`, marked as an expression whose value is a vector (for `vector_arithmetic`)."""
    node.meta[_VECTOR_RESULT] = True
    return node


def _vector_operand(node: exp.Expr, vector_columns: set[str]) -> bool:
    while isinstance(node, exp.Paren):
        node = node.this
    if node.meta.get(_VECTOR_RESULT):
        return True
    if isinstance(node, exp.Cast):
        return node.to == _LIST
    return isinstance(node, exp.Column) and node.name in vector_columns


def _list_operand(node: exp.Expr) -> exp.Expr:
    """The other side of a vector operation: a vector too (`'[1,2]'`, `$1` as FLOAT[])."""
    if isinstance(node, exp.Literal | exp.Parameter | exp.Placeholder):
        return exp.cast(node.copy(), _LIST)
    return node.copy()


def _bit_distance(node: VectorDistance) -> exp.Expr:
    """Hamming and Jaccard over DuckDB's BIT (built as nodes: parameters must stay nodes)."""
    a, b = (exp.cast(side.copy(), _BIT) for side in (node.this, node.expression))
    double = exp.DataType.build("DOUBLE")
    if node.metric == "hamming":
        return exp.cast(_call("bit_count", _call("xor", a, b)), double)
    both = _call("bit_count", exp.BitwiseAnd(this=a.copy(), expression=b.copy()))
    union = exp.Sub(
        this=exp.Add(this=_call("bit_count", a), expression=_call("bit_count", b)),
        expression=both.copy(),
    )
    ratio = exp.Div(this=exp.cast(both.copy(), double), expression=exp.Paren(this=union))
    distance = exp.Sub(this=exp.Literal.number(1), expression=ratio)
    return exp.Case(
        ifs=[
            exp.If(
                this=exp.EQ(this=both, expression=exp.Literal.number(0)),
                true=exp.cast(exp.Literal.number(1), double),
            )
        ],
        default=exp.cast(distance, double),
    )


def _call(name: str, *args: exp.Expr) -> exp.Expr:
    """A DuckDB function call by name (sqlglot reads `xor` as the boolean operator)."""
    return exp.Anonymous(this=name, expressions=list(args))


def _is_varchar_n(data_type: exp.DataType) -> bool:
    return data_type.this == exp.DataType.Type.VARCHAR and bool(data_type.expressions)


def _truncated(node: exp.Cast) -> exp.Expr:
    """`x::varchar(n)` keeps n characters, as in Postgres (DuckDB ignores the length)."""
    length = node.to.expressions[0].copy()
    text = exp.cast(node.this, exp.DataType.build("VARCHAR"))
    return exp.Anonymous(this="left", expressions=[text, length])


def _is_vector_array(data_type: exp.DataType) -> bool:
    elements = data_type.expressions
    return (
        data_type.this == exp.DataType.Type.ARRAY
        and len(elements) == 1
        and isinstance(elements[0], exp.DataType)
        and elements[0].this == exp.DataType.Type.VECTOR
    )


def _template(template: str, **operands: exp.Expr) -> exp.Expr:
    """A DuckDB expression from SQL text with the operands in place of {name}: as nodes, not
    their SQL text, which DuckDB's dialect would read back differently (`$1` becomes a
    placeholder that parameter numbering does not see)."""
    marks = {f"{_OPERAND}{name}": node for name, node in operands.items()}
    text = template.format(**{name: f"{_OPERAND}{name}" for name in operands})
    tree: exp.Expr = exp.maybe_parse(text, dialect="duckdb")

    def put(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table and node.name in marks:
            return exp.Paren(this=marks[node.name].copy())
        return node

    return tree.transform(put)


_OPERAND = "sqlvec_operand_"


def _norm(vector: exp.Expr) -> exp.Expr:
    return exp.func("sqrt", exp.func("list_inner_product", vector, vector.copy()))


def _as_list(node: exp.Expr) -> exp.Expr:
    # Operands are rewritten before the node around them (`_bottom_up`): a `'[1,2]'::vector`
    # is a list cast already and is not cast twice.
    if isinstance(node, exp.Cast) and node.to == _LIST:
        return node.copy()
    return exp.cast(node.copy(), _LIST)


def is_vector_type(data_type: exp.DataType) -> bool:
    """`vector` or `halfvec` (DuckDB holds both as FLOAT[])."""
    return data_type.this == exp.DataType.Type.VECTOR or _user_type(data_type) == "halfvec"


def _user_type(data_type: exp.DataType) -> str | None:
    """The name of a type sqlglot does not know (`halfvec`, `sparsevec`), else None."""
    if data_type.this != exp.DataType.Type.USERDEFINED:
        return None
    return str(data_type.args.get("kind") or "").lower() or None


def _anonymous_name(node: exp.Expr) -> str | None:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return None
