"""Statements with no vector in them, transpiled to DuckDB's dialect by sqlglot.

Parameters stay parameters (`$n`, renumbered densely because DuckDB wants exactly the ones a
statement uses); values are never formatted into SQL text.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp

from sqlvec.planner.plans import DuckSql
from sqlvec.planner.values import ParamTypes, parameter_index


def to_duck_sql(node: exp.Expr, constants: Mapping[str, str]) -> DuckSql:
    """DuckDB SQL for a statement; `constants` replaces session functions (version(), ...)."""
    tree = node.copy()
    tree = tree.transform(lambda n: _replace_session_function(n, constants))
    used = sorted({parameter_index(p) for p in tree.find_all(exp.Parameter)})
    rank = {index: position + 1 for position, index in enumerate(used)}
    tree = tree.transform(lambda n: _renumber(n, rank))
    return DuckSql(tree.sql("duckdb"), tuple(used))


def _replace_session_function(node: exp.Expr, constants: Mapping[str, str]) -> exp.Expr:
    name = _function_name(node)
    if name is not None and name in constants:
        value = constants[name]
        return exp.Literal.number(value) if value.isdigit() else exp.Literal.string(value)
    return node


# sqlglot's nodes for Postgres' session functions, by the name Postgres gives them (and their
# result column).
SESSION_FUNCTIONS: dict[type[exp.Expr], str] = {
    exp.CurrentVersion: "version",
    exp.CurrentDatabase: "current_database",
    exp.CurrentSchema: "current_schema",
    exp.CurrentUser: "current_user",
}


def _function_name(node: exp.Expr) -> str | None:
    if isinstance(node, exp.Anonymous) and not node.expressions:
        return str(node.this).lower()
    return SESSION_FUNCTIONS.get(type(node))


def _renumber(node: exp.Expr, rank: Mapping[int, int]) -> exp.Expr:
    if isinstance(node, exp.Parameter):
        return exp.Parameter(this=exp.Literal.number(rank[parameter_index(node)]))
    return node


def describe_sql(node: exp.Expr, constants: Mapping[str, str], params: ParamTypes) -> str:
    """The statement with each parameter as a NULL of its type: DuckDB can DESCRIBE it."""
    tree = node.copy().transform(lambda n: _replace_session_function(n, constants))

    def typed_null(n: exp.Expr) -> exp.Expr:
        if isinstance(n, exp.Parameter):
            pg_type = params.type_of(parameter_index(n))
            duck_type = pg_type.duckdb if pg_type is not None else "VARCHAR"
            return exp.cast(exp.Null(), exp.DataType.build(duck_type, dialect="duckdb"))
        return n

    return tree.transform(typed_null).sql("duckdb")
