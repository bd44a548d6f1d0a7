"""pgvector distance operators: tokens, node classes, precedence and generation."""

from __future__ import annotations

import pytest
from sqlglot import exp

from sqlvec.parser import (
    CosineDistance,
    HammingDistance,
    JaccardDistance,
    L1Distance,
    L2Distance,
    NegInnerProduct,
    VectorDistance,
    parse_one,
)


def select_expr(sql: str) -> exp.Expr:
    """The first projection of `SELECT <sql>`."""
    select = parse_one(f"SELECT {sql}")
    assert isinstance(select, exp.Select)
    return select.expressions[0]


def shape(node: exp.Expr) -> str:
    """A compact tree: `a <-> b < 0.5` -> 'LT(L2Distance(a, b), 0.5)'."""
    if isinstance(node, (exp.Column, exp.Literal)):
        return node.sql()
    if isinstance(node, exp.Parameter):
        return f"${node.name}"
    if isinstance(node, exp.Null):
        return "NULL"
    if isinstance(node, exp.Binary):
        return f"{type(node).__name__}({shape(node.left)}, {shape(node.right)})"
    if isinstance(node, exp.Between):
        low, high = node.args["low"], node.args["high"]
        return f"Between({shape(node.this)}, {shape(low)}, {shape(high)})"
    if isinstance(node, exp.In):
        items = ", ".join(shape(item) for item in node.expressions)
        return f"In({shape(node.this)}, [{items}])"
    if isinstance(node, exp.Cast):
        return f"Cast({shape(node.this)}, {node.to.sql()})"
    if isinstance(node, (exp.Not, exp.Neg, exp.Paren)):
        return f"{type(node).__name__}({shape(node.this)})"
    return node.sql()


@pytest.mark.parametrize(
    ("operator", "node", "metric"),
    [
        ("<->", L2Distance, "l2"),
        ("<#>", NegInnerProduct, "ip"),
        ("<=>", CosineDistance, "cosine"),
        ("<+>", L1Distance, "l1"),
        ("<~>", HammingDistance, "hamming"),
        ("<%>", JaccardDistance, "jaccard"),
    ],
)
def test_operator_parses_to_its_node(operator: str, node: type, metric: str) -> None:
    tree = select_expr(f"embedding {operator} $1")
    assert type(tree) is node
    assert isinstance(tree, VectorDistance)
    assert (tree.operator, tree.metric) == (operator, metric)
    assert tree.left.sql() == "embedding"
    assert isinstance(tree.right, exp.Parameter)


@pytest.mark.parametrize("operator", ["<->", "<#>", "<=>", "<+>", "<~>", "<%>"])
def test_operator_round_trips(operator: str) -> None:
    sql = f"SELECT id, embedding {operator} $1 AS distance FROM docs ORDER BY distance LIMIT 10"
    assert parse_one(sql).sql(dialect="sqlvec") == sql


@pytest.mark.parametrize("operator", ["<->", "<#>", "<=>", "<+>"])
def test_operator_needs_no_spaces(operator: str) -> None:
    tree = select_expr(f"a{operator}b")
    assert isinstance(tree, VectorDistance)
    assert tree.operator == operator


def test_cosine_is_never_null_safe_equality() -> None:
    # sqlglot's base tokenizer reads <=> as MySQL's null-safe equality and Postgres' generator
    # then prints IS NOT DISTINCT FROM: silently a different query.
    tree = parse_one("SELECT id FROM docs ORDER BY embedding <=> $1 LIMIT 5")
    assert not list(tree.find_all(exp.NullSafeEQ, exp.NullSafeNEQ))
    assert tree.find(CosineDistance) is not None
    sql = tree.sql(dialect="sqlvec")
    assert "<=>" in sql
    assert "DISTINCT" not in sql


def test_is_not_distinct_from_still_works() -> None:
    assert isinstance(select_expr("a IS NOT DISTINCT FROM b"), exp.NullSafeEQ)


def test_lookalike_comparisons_are_not_operators() -> None:
    assert shape(select_expr("a<-1")) == "LT(a, Neg(1))"
    assert shape(select_expr("a<=b")) == "LTE(a, b)"
    assert shape(select_expr("a<>b")) == "NEQ(a, b)"


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        # tighter than comparisons (Postgres' "any other operator" class)
        ("a <-> b < 0.5", "LT(L2Distance(a, b), 0.5)"),
        ("a <-> b <= 0.5", "LTE(L2Distance(a, b), 0.5)"),
        ("a <-> b > 0.5", "GT(L2Distance(a, b), 0.5)"),
        ("a <-> b >= 0.5", "GTE(L2Distance(a, b), 0.5)"),
        ("a <=> b = 1", "EQ(CosineDistance(a, b), 1)"),
        ("a <=> b <> 1", "NEQ(CosineDistance(a, b), 1)"),
        ("0.5 > a <#> b", "GT(0.5, NegInnerProduct(a, b))"),
        # ... and than IS / IN / BETWEEN / LIKE
        ("a <-> b IS NULL", "Is(L2Distance(a, b), NULL)"),
        ("a <-> b BETWEEN 1 AND 2", "Between(L2Distance(a, b), 1, 2)"),
        ("a <-> b IN (1, 2)", "In(L2Distance(a, b), [1, 2])"),
        ("a <+> b LIKE 'x'", "Like(L1Distance(a, b), 'x')"),
        ("NOT a <-> b > 1", "Not(GT(L2Distance(a, b), 1))"),
        # looser than + - * / %
        ("1 - e <=> q", "CosineDistance(Sub(1, e), q)"),
        ("1 - (e <=> q)", "Sub(1, Paren(CosineDistance(e, q)))"),
        ("a * b <#> c + d", "NegInnerProduct(Mul(a, b), Add(c, d))"),
        ("a <+> b % 2", "L1Distance(a, Mod(b, 2))"),
        ("a / 2 <-> b", "L2Distance(Div(a, 2), b)"),
        ("-a <-> b", "L2Distance(Neg(a), b)"),
        # left-associative, and level with Postgres' other operators (||, &, ...)
        ("a <-> b <-> c", "L2Distance(L2Distance(a, b), c)"),
        ("a <-> b <=> c", "CosineDistance(L2Distance(a, b), c)"),
        ("a || b <-> c", "L2Distance(DPipe(a, b), c)"),
        ("a <-> b || c", "DPipe(L2Distance(a, b), c)"),
        # casts bind tightest
        ("a <-> b::vector", "L2Distance(a, Cast(b, VECTOR))"),
        ("'[1,2]'::vector <-> '[3,4]'", "L2Distance(Cast('[1,2]', VECTOR), '[3,4]')"),
        ("e <-> $1::vector(3)", "L2Distance(e, Cast($1, VECTOR(3)))"),
    ],
)
def test_precedence(sql: str, expected: str) -> None:
    assert shape(select_expr(sql)) == expected


def test_range_search_filter() -> None:
    select = parse_one("SELECT id FROM docs WHERE embedding <-> $1 < 0.5")
    where = select.args["where"].this
    assert shape(where) == "LT(L2Distance(embedding, $1), 0.5)"


def test_parenthesised_distance_round_trips() -> None:
    sql = "SELECT 1 - (embedding <=> $1) AS similarity FROM docs"
    assert parse_one(sql).sql(dialect="sqlvec") == sql
