"""Catalog SQL from clients, rewritten to run in DuckDB over the emulated pg_catalog.

What clients send (psql's meta-commands, psycopg's TypeInfo, asyncpg's introspection,
SQLAlchemy's inspector) is PostgreSQL: `pg_catalog.pg_type`, `x::regtype::text`,
`OPERATOR(pg_catalog.~)`, `COLLATE pg_catalog.default`, `pg_catalog.format_type(...)`. One pass
over the AST turns that into DuckDB SQL over the relations and macros of the emulated catalog
(sqlvec.engine.pg_catalog_relations, pg_catalog_macros): catalog relations and catalog
functions are qualified with the attached database's name, reg* casts become lookups,
oid/name/"char" casts become DuckDB types.
"""

from __future__ import annotations

from sqlglot import exp

from sqlvec.engine.information_schema import RELATIONS as INFORMATION_SCHEMA
from sqlvec.engine.pg_catalog_macros import MACROS
from sqlvec.engine.pg_catalog_relations import CATALOG_RELATIONS, PREFIX
from sqlvec.engine.pg_catalog_rows import system_relation_oid
from sqlvec.planner.context import PlanContext
from sqlvec.planner.values import parameter_index
from sqlvec.types import OID, OID_ARRAY, TEXT

_REG_TYPES = frozenset({"regtype", "regclass", "regnamespace", "regproc", "regprocedure"})
_TEXT_TYPES = frozenset({"text", "varchar", "name", "bpchar", "char", '"char"'})
# Catalog functions sqlvec defines as macros, besides the reg* helpers used by the rewrite.
_FUNCTIONS = frozenset(MACROS) - {
    "regtype_in",
    "regtype_out",
    "regclass_in",
    "regclass_out",
    "regnamespace_in",
    "regnamespace_out",
}
# PostgreSQL functions DuckDB has under another name.
_RENAMED = {"json_build_object": "json_object"}
_CALLS = _FUNCTIONS | set(_RENAMED)
_DUCK_TYPES = {
    "oid": "UINTEGER",
    "name": "VARCHAR",
    '"char"': "VARCHAR",
    "char": "VARCHAR",
    "int2vector": "USMALLINT[]",
    "oidvector": "UBIGINT[]",
    "text": "VARCHAR",
    "int2": "SMALLINT",
    "int4": "INTEGER",
    "int8": "BIGINT",
    "bool": "BOOLEAN",
    "float4": "FLOAT",
    "float8": "DOUBLE",
}


def uses_pg_catalog(statement: exp.Expr, ctx: PlanContext) -> bool:
    """Whether the statement reads a catalog relation or calls a catalog function or cast."""
    for table in statement.find_all(exp.Table):
        if _catalog_relation(table, ctx) is not None:
            return True
    for node in statement.find_all(exp.Anonymous, exp.Cast, exp.Operator, exp.Dot):
        if isinstance(node, exp.Anonymous) and str(node.this).lower() in _CALLS:
            return True
        if isinstance(node, exp.Cast) and _type_name(node.to) in {*_REG_TYPES, *_DUCK_TYPES}:
            return True
        if isinstance(node, exp.Operator | exp.Dot):
            return True
    return False


def rewrite_pg_catalog(statement: exp.Expr, ctx: PlanContext) -> tuple[exp.Expr, bool]:
    """The statement over sqlvec's catalog relations, and whether it reads them at all."""
    if not uses_pg_catalog(statement, ctx):
        return statement, False
    _note_parameter_casts(statement, ctx)
    statement = _system_columns(statement.copy(), ctx)

    def rewrite(node: exp.Expr) -> exp.Expr:
        replaced = _rewrite_node(node, ctx)
        if replaced is not node:
            # transform() does not descend into a replacement: rewrite inside it too.
            return replaced.transform(rewrite, copy=False)
        return node

    return statement.transform(rewrite, copy=False), True


def _rewrite_node(node: exp.Expr, ctx: PlanContext) -> exp.Expr:
    if isinstance(node, exp.Table):
        return _table(node, ctx)
    if isinstance(node, exp.Column):
        return _column(node)
    if isinstance(node, exp.Dot):
        return _dot(node)
    if isinstance(node, exp.Anonymous):
        return _function(node)
    if isinstance(node, exp.Cast):
        return _cast(node)
    if isinstance(node, exp.Operator):
        return _operator(node)
    if isinstance(node, exp.Like | exp.ILike) and not isinstance(node.parent, exp.Escape):
        # PostgreSQL's LIKE escapes with a backslash (psql: `NOT LIKE E'pg\\_%'`); DuckDB's
        # has no escape character unless told.
        return exp.Escape(this=node.copy(), expression=exp.Literal.string("\\"))
    if isinstance(node, exp.Collate) and _is_default_collation(node.expression):
        return node.this
    return node


def _system_columns(statement: exp.Expr, ctx: PlanContext) -> exp.Expr:
    """`x.tableoid` of a catalog relation (psql's `\\dd`): the OID of that catalog."""
    for column in list(statement.find_all(exp.Column)):
        if column.name.lower() != "tableoid" or not column.table:
            continue
        name = _qualifier_relation(column, ctx)
        if name is not None:
            oid = exp.Literal.number(system_relation_oid(name))
            column.replace(exp.cast(oid, exp.DataType.build("UINTEGER", dialect="duckdb")))
    return statement


def _qualifier_relation(column: exp.Column, ctx: PlanContext) -> str | None:
    """The catalog relation a column's qualifier names in its SELECT, if it names one."""
    select = column.find_ancestor(exp.Select)
    if select is None:
        return None
    sources = [select.args.get("from_") or select.args.get("from")]
    sources += list(select.args.get("joins") or [])
    for source in sources:
        table = source.this if source is not None else None
        if isinstance(table, exp.Table) and table.alias_or_name == column.table:
            return _catalog_relation(table, ctx)
    return None


def _catalog_relation(table: exp.Table, ctx: PlanContext) -> str | None:
    if not isinstance(table.this, exp.Identifier):
        return None
    name = table.name.lower()
    schema = table.db.lower()
    if schema == "information_schema" and not table.catalog:
        return INFORMATION_SCHEMA.get(name)  # others stay DuckDB's own
    if name not in CATALOG_RELATIONS or table.catalog:
        return None
    if schema == "pg_catalog" or (not schema and not ctx.catalog.has_collection(name)):
        return name
    return None


def _table(table: exp.Table, ctx: PlanContext) -> exp.Expr:
    name = _catalog_relation(table, ctx)
    if name is None:
        if table.db.lower() == "pg_catalog" and not isinstance(table.this, exp.Identifier):
            table.set("db", None)  # pg_catalog.unnest(...), pg_catalog.generate_series(...)
        return table
    replaced = exp.Table(
        this=exp.to_identifier(name),
        db=exp.to_identifier("main"),
        catalog=exp.to_identifier(PREFIX.split(".")[0]),
    )
    # Columns qualified with the bare name (pg_class.relname, columns.column_name) resolve.
    alias = table.args.get("alias")
    bare = exp.TableAlias(this=exp.to_identifier(table.name.lower()))
    replaced.set("alias", alias.copy() if alias is not None else bare)
    for key in ("joins", "laterals", "pivots"):
        if table.args.get(key):
            replaced.set(key, table.args[key])
    return replaced


def _column(column: exp.Column) -> exp.Expr:
    # pg_catalog.pg_class.relname (SQLAlchemy) -> pg_class.relname
    if column.args.get("db") is not None and column.db.lower() == "pg_catalog":
        return exp.Column(this=column.this.copy(), table=column.args["table"].copy())
    return column


def _dot(node: exp.Dot) -> exp.Expr:
    # pg_catalog.version(), pg_catalog.format_type(...) -> the bare function;
    # information_schema._pg_expandarray(...) (pgjdbc's getPrimaryKeys) -> sqlvec's macro
    this, function = node.this, node.expression
    if not isinstance(this, exp.Identifier | exp.Column):
        return node
    if this.name.lower() == "pg_catalog":
        return function
    if this.name.lower() == "information_schema" and isinstance(function, exp.Anonymous):
        return function if str(function.this).lower() in _FUNCTIONS else node
    return node


def _function(node: exp.Anonymous) -> exp.Expr:
    name = str(node.this).lower()
    if name in _RENAMED:
        return exp.Anonymous(this=_RENAMED[name], expressions=node.expressions)
    if name not in _FUNCTIONS:
        return node
    return _macro(name, *node.expressions)


def _macro(name: str, *arguments: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this=f"{PREFIX}.{name}", expressions=[a.copy() for a in arguments])


def _cast(node: exp.Cast) -> exp.Expr:
    target = _type_name(node.to)
    inner = node.this
    inner_type = _type_name(inner.to) if isinstance(inner, exp.Cast) else None
    if target in _TEXT_TYPES and inner_type in _REG_TYPES:
        assert isinstance(inner, exp.Cast)
        return _reg_out(inner_type, _reg_value(inner_type, inner.this))
    if target in _REG_TYPES:
        value = _reg_value(target, inner)
        if _in_select_list(node):
            return _reg_out(target, value)  # displayed as a name, as PostgreSQL prints it
        return value
    if target == "oid" and inner_type in _REG_TYPES:
        assert isinstance(inner, exp.Cast)
        return _reg_value(inner_type, inner.this)
    if target is not None and target in _DUCK_TYPES and not _is_builtin(node.to):
        return exp.cast(inner, exp.DataType.build(_DUCK_TYPES[target], dialect="duckdb"))
    if _is_oid_array(node.to):
        return exp.cast(inner, exp.DataType.build("UINTEGER[]", dialect="duckdb"))
    return node


def _reg_value(kind: str, value: exp.Expr) -> exp.Expr:
    """The OID a reg* value stands for: names are looked up, numbers are OIDs already."""
    if _is_text(value):
        if kind == "regtype":
            return _macro("regtype_in", value)
        if kind == "regclass":
            return _macro("regclass_in", value)
        if kind == "regnamespace":
            return _macro("regnamespace_in", value)
        # regproc: catalog tables hold function names, not OIDs
        return exp.func(
            "regexp_replace",
            value.copy(),
            exp.Literal.string("^pg_catalog\\."),
            exp.Literal.string(""),
        )
    if isinstance(value, exp.Cast) and _type_name(value.to) in _REG_TYPES:
        return _reg_value(_type_name(value.to) or kind, value.this)
    if kind == "regproc":
        return value
    return exp.cast(value.copy(), exp.DataType.build("UINTEGER", dialect="duckdb"))


def _reg_out(kind: str, value: exp.Expr) -> exp.Expr:
    if kind not in ("regtype", "regclass", "regnamespace"):
        return exp.cast(value, exp.DataType.build("VARCHAR", dialect="duckdb"))
    # OID 0 prints as '-' (asyncpg's `elemtype::regtype::text` of a type with no element).
    return exp.If(
        this=exp.EQ(this=value.copy(), expression=exp.Literal.number(0)),
        true=exp.Literal.string("-"),
        false=_macro(f"{kind}_out", value),
    )


def _is_text(value: exp.Expr) -> bool:
    if isinstance(value, exp.Literal):
        return value.is_string
    if isinstance(value, exp.Cast):
        return _type_name(value.to) in _TEXT_TYPES
    return isinstance(value, exp.Parameter)


def _in_select_list(node: exp.Expr) -> bool:
    parent = node.parent
    if isinstance(parent, exp.Alias):
        parent = parent.parent
    return isinstance(parent, exp.Select) and node.arg_key in ("expressions", "this")


def _operator(node: exp.Operator) -> exp.Expr:
    operator = str(node.args.get("operator") or "").lower().replace(" ", "")
    symbol = operator.removeprefix("pg_catalog.")
    left, right = node.this, node.expression
    if symbol == "~":
        return exp.RegexpLike(this=left, expression=right)
    if symbol == "!~":
        return exp.Not(this=exp.RegexpLike(this=left, expression=right))
    if symbol == "~*":
        return exp.RegexpILike(this=left, expression=right)
    if symbol == "=":
        return exp.EQ(this=left, expression=right)
    if symbol in ("<>", "!="):
        return exp.NEQ(this=left, expression=right)
    return node


def _is_default_collation(node: exp.Expr) -> bool:
    return node.name.lower() == "default" or node.sql().lower().endswith('"default"')


def _note_parameter_casts(statement: exp.Expr, ctx: PlanContext) -> None:
    """`$1::oid[]` (asyncpg), `$1::regtype`: the parameter's type for ParameterDescription."""
    for cast in statement.find_all(exp.Cast):
        if not isinstance(cast.this, exp.Parameter):
            continue
        index = parameter_index(cast.this)
        if _is_oid_array(cast.to):
            ctx.params.note(index, OID_ARRAY)
        elif _type_name(cast.to) == "oid":
            ctx.params.note(index, OID)
        elif _type_name(cast.to) in _REG_TYPES:
            ctx.params.note(index, TEXT)


def _type_name(node: exp.Expr | None) -> str | None:
    """A cast target's bare type name (pg_catalog.regtype -> regtype), lower case."""
    if isinstance(node, exp.ObjectIdentifier):
        return str(node.this).lower()
    if not isinstance(node, exp.DataType):
        return None
    if node.this == exp.DataType.Type.USERDEFINED:
        kind = node.args.get("kind")
        if isinstance(kind, exp.Dot):
            return kind.expression.name.lower()
        if kind is not None:
            return (kind.name if isinstance(kind, exp.Expr) else str(kind)).lower()
        return None
    if node.this == exp.DataType.Type.NAME:
        return "name"
    if node.this == exp.DataType.Type.ARRAY:
        return None
    return node.sql("postgres").lower()


def _is_builtin(node: exp.Expr) -> bool:
    """A type sqlglot already maps to DuckDB (TEXT, INT4 ...) and that needs no rewrite."""
    return (
        isinstance(node, exp.DataType)
        and node.this
        not in (
            exp.DataType.Type.USERDEFINED,
            exp.DataType.Type.NAME,
        )
        and not isinstance(node, exp.ObjectIdentifier)
    )


def _is_oid_array(node: exp.Expr | None) -> bool:
    return (
        isinstance(node, exp.DataType)
        and node.this == exp.DataType.Type.ARRAY
        and len(node.expressions) == 1
        and _type_name(node.expressions[0]) == "oid"
    )
