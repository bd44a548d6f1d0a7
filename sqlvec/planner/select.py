"""Planning SELECT: vector search over a collection, constants, or DuckDB for the rest."""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from sqlvec.engine.catalog import CollectionSpec
from sqlvec.errors import FeatureNotSupported, InvalidColumnReference, UndefinedTable
from sqlvec.parser.nodes import VectorDistance
from sqlvec.planner.context import PlanContext, infer_parameter_types
from sqlvec.planner.duck import SESSION_FUNCTIONS, describe_sql, to_duck_sql
from sqlvec.planner.lateral import lateral_join, plan_lateral
from sqlvec.planner.logical import (
    Filter,
    Limit,
    LogicalNode,
    NotAVectorSearch,
    Output,
    Project,
    Scan,
    Sort,
    SortKey,
    UncomputedOutput,
)
from sqlvec.planner.pg_catalog import rewrite_pg_catalog
from sqlvec.planner.physical import to_physical
from sqlvec.planner.plans import ConstantPlan, DuckPlan, OutputColumn, VectorRangePlan
from sqlvec.planner.rules import RULES
from sqlvec.planner.search_subquery import plan_search_subquery, searched_first
from sqlvec.planner.table_functions import replace_table_functions
from sqlvec.planner.values import checked_vector_literals, compile_value, declared_type
from sqlvec.planner.vector_aggregates import vector_aggregates
from sqlvec.planner.vector_sql import (
    FUNCTION_NAME,
    normalize_functions,
    to_duckdb,
    vector_arithmetic,
)
from sqlvec.planner.vector_text import vector_column_names, vector_text_casts
from sqlvec.types import TEXT, UNKNOWN

# Clauses the vector search path does not implement yet; each is rejected by name.
_UNSUPPORTED_WITH_VECTORS = {
    "joins": "JOIN",
    "group": "GROUP BY",
    "having": "HAVING",
    "distinct": "DISTINCT",
    "with": "WITH",
    "with_": "WITH",  # sqlglot 28 and later name it so, like from_
    "windows": "WINDOW",
    "qualify": "QUALIFY",
}


def plan_select(select: exp.Expr, ctx: PlanContext) -> object:
    select = normalize_functions(select)
    if isinstance(select, exp.Select):
        _check_distinct_order(select)
    uses_vectors = _uses_vectors(select)
    if isinstance(select, exp.Select) and _from_clause(select) is None:
        try:
            return _constant_plan(select, ctx)
        except FeatureNotSupported:
            pass  # DuckDB evaluates what the constant plan does not (vector_dims('[1,2]'), ...)
    if not uses_vectors or ctx.exact_vectors:
        return duck_query_plan(select, ctx)
    searched: exp.Expr = select
    if isinstance(select, exp.Select):
        try:
            join = lateral_join(select)
            if join is not None:
                return plan_lateral(select, join, ctx, lambda inner: _vector_search(inner, ctx))
            return _with_fallback(_vector_search(select, ctx), select, ctx)
        except UncomputedOutput:
            # Outputs the search does not compute: the search as a subquery, DuckDB on top.
            searched = searched_first(select)
        except NotAVectorSearch:
            pass
    found = plan_search_subquery(
        searched,
        ctx.catalog.spec,
        lambda inner: _vector_search(inner, ctx),
        lambda outer, specs: duck_query_plan(outer, ctx, specs),
    )
    return found if found is not None else duck_query_plan(select, ctx)


def _check_distinct_order(select: exp.Select) -> None:
    """Postgres' rule: with SELECT DISTINCT (not DISTINCT ON), each ORDER BY key is an output
    (its alias, its position, or its expression). DuckDB would sort by anything, and a search
    order (`ORDER BY embedding <-> $1`) would silently pick which duplicates survive."""
    distinct, order = select.args.get("distinct"), select.args.get("order")
    if distinct is None or distinct.args.get("on") is not None or order is None:
        return
    outputs = select.expressions
    if any(isinstance(o, exp.Star) or (isinstance(o, exp.Column) and o.is_star) for o in outputs):
        return
    names = {output_name(o) for o in outputs}
    expressions = [_unalias(o) for o in outputs]
    for key in order.expressions:
        wanted = key.this
        if isinstance(wanted, exp.Literal) and not wanted.is_string:
            continue  # a position: checked where the select list is read
        if isinstance(wanted, exp.Column) and wanted.name in names:
            continue
        if any(wanted == expression for expression in expressions):
            continue
        raise InvalidColumnReference(
            "for SELECT DISTINCT, ORDER BY expressions must appear in select list"
        )


def _vector_search(select: exp.Select, ctx: PlanContext) -> object:
    """Logical plan, rewrite rules, physical plan: a top-k search, or NotAVectorSearch."""
    logical = _logical_plan(select, ctx)
    for rule in RULES:
        logical = rule(logical)
    return to_physical(logical, ctx)


def _with_fallback(plan: object, select: exp.Select, ctx: PlanContext) -> object:
    """A range search whose ORDER BY names a second query vector also carries the exact
    DuckDB plan, which runs when the two vectors differ."""
    if isinstance(plan, VectorRangePlan) and plan.order_query is not None:
        return replace(plan, fallback=duck_query_plan(select, ctx))
    return plan


def duck_query_plan(
    statement: exp.Expr, ctx: PlanContext, searched: tuple[CollectionSpec, ...] = ()
) -> DuckPlan:
    """`statement` run by DuckDB; `searched`: collections whose search results it reads in a
    relation (search_subquery), so their vector columns keep their type there."""
    if any(table.args.get("partitions") for table in statement.find_all(exp.Table)):
        raise FeatureNotSupported(
            "PARTITION (...) is supported in vector searches only, not yet in other queries"
        )
    names = _column_names(statement)
    statement, reads_catalog = rewrite_pg_catalog(statement, ctx)
    statement, relations = replace_table_functions(statement, ctx)
    specs = [
        ctx.catalog.spec(table.name)
        for table in statement.find_all(exp.Table)
        if ctx.catalog.has_collection(table.name)
    ] + list(searched)
    infer_parameter_types(statement, specs, ctx)
    statement = checked_vector_literals(vector_text_casts(statement.copy(), specs))
    statement = to_duckdb(vector_aggregates(statement, specs))
    statement = vector_arithmetic(statement, vector_column_names(specs))
    query = to_duck_sql(statement, ctx.constants)
    describe = describe_sql(statement, ctx.constants, ctx.params)
    return DuckPlan(query, describe, names, relations, reads_catalog)


def _uses_vectors(node: exp.Expr) -> bool:
    if node.find(VectorDistance):
        return True
    return any(cast.to.this == exp.DataType.Type.VECTOR for cast in node.find_all(exp.Cast))


def _from_clause(select: exp.Select) -> exp.From | None:
    return select.args.get("from_") or select.args.get("from")


def _constant_plan(select: exp.Select, ctx: PlanContext) -> ConstantPlan:
    if select.args.get("where") or select.args.get("group") or select.args.get("order"):
        raise FeatureNotSupported("clauses on a SELECT without FROM")
    columns, values = [], []
    for node in select.expressions:
        evaluate, pg_type = compile_value(_unalias(node), ctx.params)
        columns.append(OutputColumn(output_name(node), TEXT if pg_type == UNKNOWN else pg_type))
        values.append(evaluate)
    return ConstantPlan(tuple(columns), tuple(values))


def _logical_plan(select: exp.Select, ctx: PlanContext) -> LogicalNode:
    for arg, clause in _UNSUPPORTED_WITH_VECTORS.items():
        if select.args.get(arg):
            raise NotAVectorSearch(clause)
    scan = _scan(select, ctx)
    node: LogicalNode = scan
    where = select.args.get("where")
    if where is not None:
        node = Filter(scan, where.this)  # a distance in it: the vector_range rule
    outputs = _outputs(select, scan)
    node = Project(node, outputs)
    order = select.args.get("order")
    if order is not None:
        keys = tuple(
            SortKey(_resolve_sort_key(key.this, outputs), bool(key.args.get("desc")))
            for key in order.expressions
        )
        node = Sort(node, keys)
    limit, offset = select.args.get("limit"), select.args.get("offset")
    if limit is not None or offset is not None:
        node = Limit(
            node,
            limit.expression if limit is not None else None,
            offset.expression if offset is not None else None,
        )
    return node


def _scan(select: exp.Select, ctx: PlanContext) -> Scan:
    from_clause = _from_clause(select)
    source = from_clause.this if from_clause is not None else None
    if not isinstance(source, exp.Table) or isinstance(source.this, exp.Anonymous):
        raise NotAVectorSearch("FROM is not a single collection")
    if not ctx.catalog.has_collection(source.name):
        raise UndefinedTable(f'relation "{source.name}" does not exist')
    tags = source.args.get("partitions")
    partitions = tuple(tags) if tags else None
    return Scan(ctx.catalog.spec(source.name), source.alias or None, partitions)


def _outputs(select: exp.Select, scan: Scan) -> tuple[Output, ...]:
    outputs: list[Output] = []
    for node in select.expressions:
        if isinstance(node, exp.Star) or (isinstance(node, exp.Column) and node.is_star):
            outputs.extend(Output(c.name, exp.column(c.name)) for c in scan.collection.columns)
        else:
            outputs.append(Output(output_name(node), _unalias(node)))
    return tuple(outputs)


def _resolve_sort_key(key: exp.Expr, outputs: tuple[Output, ...]) -> exp.Expr:
    """ORDER BY an output name or ordinal means that output's expression, as in Postgres."""
    if isinstance(key, exp.Literal) and not key.is_string:
        ordinal = int(key.this)
        if not 1 <= ordinal <= len(outputs):
            raise FeatureNotSupported(f"ORDER BY position {ordinal} is not in select list")
        return outputs[ordinal - 1].expression
    if isinstance(key, exp.Column) and not key.table:
        for output in outputs:
            if output.name == key.name and not isinstance(output.expression, exp.Column):
                return output.expression
    return key


def _unalias(node: exp.Expr) -> exp.Expr:
    return node.this if isinstance(node, exp.Alias) else node


def output_name(node: exp.Expr) -> str:
    """The column name Postgres gives a select-list entry."""
    if FUNCTION_NAME in node.meta:
        return str(node.meta[FUNCTION_NAME])
    if isinstance(node, exp.Alias):
        return node.alias
    if isinstance(node, exp.Column):
        return node.name
    if isinstance(node, exp.Cast):
        inner = node.this
        if isinstance(inner, exp.Column | exp.Cast | exp.Func) or FUNCTION_NAME in inner.meta:
            return output_name(inner)
        if isinstance(node.to, exp.ObjectIdentifier):  # 'vector'::regtype
            return str(node.to.this).lower()
        return _type_output_name(node.to)
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
        return output_name(node.expression)  # pg_catalog.version()
    if isinstance(node, exp.Func) and not isinstance(node, exp.Connector):
        return _function_output_name(node)  # AND/OR are Funcs to sqlglot, not to Postgres
    return "?column?"


def _type_output_name(data_type: exp.DataType) -> str:
    """A cast's column as Postgres names it: the type's own name (`1::int` is `int4`)."""
    try:
        return declared_type(data_type)[0].name
    except FeatureNotSupported:  # a type sqlvec does not store: DuckDB's name for it
        if data_type.this == exp.DataType.Type.USERDEFINED:
            return "?column?"
        return str(data_type.this.value).lower()


def _function_output_name(node: exp.Func) -> str:
    return SESSION_FUNCTIONS.get(type(node)) or node.sql_name().lower()


def _column_names(statement: exp.Expr) -> tuple[str, ...] | None:
    if not isinstance(statement, exp.Select):
        return None
    if any(
        isinstance(n, exp.Star) or (isinstance(n, exp.Column) and n.is_star)
        for n in statement.expressions
    ):
        return None
    return tuple(output_name(node) for node in statement.expressions)
