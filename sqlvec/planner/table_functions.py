"""Table functions sqlvec answers itself inside scalar SQL: sqlvec_collection_stats('coll').

The call is replaced by the name of a relation the engine computes when the statement runs, so
the rest of the query (WHERE, ORDER BY, joins, aggregates) still runs in DuckDB.
"""

from __future__ import annotations

from sqlglot import exp

from sqlvec.errors import FeatureNotSupported, UndefinedTable
from sqlvec.planner.context import PlanContext

STATS_FUNCTION = "sqlvec_collection_stats"


def replace_table_functions(
    statement: exp.Expr, ctx: PlanContext
) -> tuple[exp.Expr, tuple[tuple[str, str], ...]]:
    """The statement reading relations instead of calls, and (relation, collection) pairs."""
    relations: list[tuple[str, str]] = []

    def replace(node: exp.Expr) -> exp.Expr:
        call = node.this if isinstance(node, exp.Table) else None
        if not isinstance(call, exp.Anonymous) or str(call.this).lower() != STATS_FUNCTION:
            return node
        collection = _collection_argument(call)
        if not ctx.catalog.has_collection(collection):
            raise UndefinedTable(f'relation "{collection}" does not exist')
        relation = f"sqlvec_stats_{len(relations)}"
        relations.append((relation, collection))
        table = exp.to_table(relation)
        alias = node.args.get("alias")
        if alias is not None:
            table.set("alias", alias.copy())
        return table

    if not any(
        isinstance(t.this, exp.Anonymous) and str(t.this.this).lower() == STATS_FUNCTION
        for t in statement.find_all(exp.Table)
    ):
        return statement, ()
    replaced = statement.copy().transform(replace)
    return replaced, tuple(relations)


def _collection_argument(call: exp.Anonymous) -> str:
    arguments = call.expressions
    if (
        len(arguments) != 1
        or not isinstance(arguments[0], exp.Literal)
        or not arguments[0].is_string
    ):
        raise FeatureNotSupported(f"{STATS_FUNCTION} takes one collection name as a string literal")
    return str(arguments[0].this)
