"""SQL text back from sqlvec's nodes (round trips, EXPLAIN, logs), via Generator.TRANSFORMS.

Partition tags are not nodes of their own: `table_parts` prints a Table's `partitions` and the
enclosing INSERT's `partition_tag`.
"""

from __future__ import annotations

import re
import typing as t

from sqlglot import exp
from sqlglot.generators.postgres import PostgresGenerator

from sqlvec.parser.nodes import (
    DISTANCE_OPERATORS,
    AnalyzeCollection,
    Compact,
    CreateCollection,
    CreatePartition,
    CreateVectorIndex,
    DefaultValue,
    DropCollection,
    DropPartition,
    DropVectorIndex,
    Explain,
    Flush,
    ResetVariable,
    Savepoint,
    SetVariable,
    Show,
    ShowCollections,
    ShowPartitions,
    VectorDistance,
)
from sqlvec.parser.tokens import SqlvecTokenizer

_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_$]*\Z")
# Option keys are read as any word, keywords included, and keep their case (efConstruction).
_OPTION_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*\Z")
_SAVEPOINT_VERBS = {
    "savepoint": "SAVEPOINT",
    "release": "RELEASE SAVEPOINT",
    "rollback_to": "ROLLBACK TO SAVEPOINT",
}


def _setting_name(name: str) -> str:
    return "ALL" if name == "all" else name


def _name_sql(self: PostgresGenerator, name: str) -> str:
    """A folded name (savepoint, tag, index, column) as SQL that reads back as the same string:
    bare when lower-case and not a keyword (`ON` would end a partition tag), else quoted."""
    if _PLAIN_NAME.match(name) and name.upper() not in SqlvecTokenizer.KEYWORDS:
        return name
    return self.sql(exp.to_identifier(name, quoted=True))


def _options_sql(self: PostgresGenerator, options: list[exp.Property] | None) -> str:
    """` WITH (key = value, ...)` with the keys as written, or '' for no options."""
    if not options:
        return ""
    items = ", ".join(
        f"{_option_key_sql(self, option)} = {self.sql(option, 'value')}" for option in options
    )
    return f" WITH ({items})"


def _option_key_sql(self: PostgresGenerator, option: exp.Property) -> str:
    key = option.args.get("raw_key") or option.name
    return ".".join(
        part if _OPTION_WORD.match(part) else self.sql(exp.to_identifier(part, quoted=True))
        for part in key.split(".")
    )


def _distance_sql(self: PostgresGenerator, e: VectorDistance) -> str:
    return self.binary(e, e.operator)


def _create_collection_sql(self: PostgresGenerator, e: CreateCollection) -> str:
    exists = " IF NOT EXISTS" if e.args.get("exists") else ""
    with_options = _options_sql(self, e.args.get("options"))
    schema = self.sql(e, "this")
    if not e.this.expressions:
        schema += " ()"  # sqlglot prints a column-less schema as the bare table name
    return f"CREATE {e.args['kind']}{exists} {schema}{with_options}"


def _drop_collection_sql(self: PostgresGenerator, e: DropCollection) -> str:
    exists = " IF EXISTS" if e.args.get("exists") else ""
    cascade = " CASCADE" if e.args.get("cascade") else ""
    return f"DROP {e.args['kind']}{exists} {self.expressions(e, flat=True)}{cascade}"


def _set_variable_sql(self: PostgresGenerator, e: SetVariable) -> str:
    local = "LOCAL " if e.args.get("local") else ""
    values = self.expressions(e, flat=True)
    kind = e.args.get("kind")
    if kind == "characteristics":
        return f"SET SESSION CHARACTERISTICS AS TRANSACTION {values}"
    if kind == "transaction":
        return f"SET {local}TRANSACTION {values}"
    return f"SET {local}{e.name} TO {values}"


def _savepoint_sql(self: PostgresGenerator, e: Savepoint) -> str:
    return f"{_SAVEPOINT_VERBS[e.args['action']]} {_name_sql(self, e.name)}"


def _partition_ddl_sql(self: PostgresGenerator, e: CreatePartition | DropPartition) -> str:
    create = isinstance(e, CreatePartition)
    verb = "CREATE" if create else "DROP"
    exists = (" IF NOT EXISTS" if create else " IF EXISTS") if e.args.get("exists") else ""
    collection = self.sql(e, "collection")
    return f"{verb} PARTITION{exists} {_name_sql(self, e.name)} ON {collection}"


def _partition_clause_sql(self: PostgresGenerator, tags: list[str]) -> str:
    return f" PARTITION ({', '.join(_name_sql(self, tag) for tag in tags)})"


def _insert_partition_tag(table: exp.Table) -> str | None:
    """The partition tag of the INSERT whose target `table` is (directly or in its Schema)."""
    target: exp.Expr = table
    if isinstance(table.parent, exp.Schema) and table.arg_key == "this":
        target = table.parent
    insert = target.parent
    if isinstance(insert, exp.Insert) and target.arg_key == "this":
        tag = insert.args.get("partition_tag")
        return tag if isinstance(tag, str) else None
    return None


def _create_index_sql(self: PostgresGenerator, e: CreateVectorIndex) -> str:
    concurrently = " CONCURRENTLY" if e.args.get("concurrently") else ""
    exists = " IF NOT EXISTS" if e.args.get("exists") else ""
    name = f" {_name_sql(self, e.name)}" if e.args.get("this") else ""
    method = e.args.get("method")
    using = f" USING {_name_sql(self, method)}" if method else ""
    opclass = e.args.get("opclass")
    column = _name_sql(self, e.args["column"]) + (f" {_name_sql(self, opclass)}" if opclass else "")
    options = _options_sql(self, e.args.get("options"))
    collection = self.sql(e, "collection")
    return f"CREATE INDEX{concurrently}{exists}{name} ON {collection}{using} ({column}){options}"


def _drop_index_sql(self: PostgresGenerator, e: DropVectorIndex) -> str:
    concurrently = " CONCURRENTLY" if e.args.get("concurrently") else ""
    exists = " IF EXISTS" if e.args.get("exists") else ""
    name = f" {_name_sql(self, e.name)}" if e.args.get("this") else ""
    collection = self.sql(e, "collection")
    on = f" ON {collection}" if collection else ""
    cascade = " CASCADE" if e.args.get("cascade") else ""
    return f"DROP INDEX{concurrently}{exists}{name}{on}{cascade}"


def _flush_sql(self: PostgresGenerator, e: Flush) -> str:
    tables = self.expressions(e, flat=True)
    return f"FLUSH {tables}" if tables else "FLUSH"


def _analyze_sql(self: PostgresGenerator, e: AnalyzeCollection) -> str:
    verbose = " VERBOSE" if e.args.get("verbose") else ""
    table = self.sql(e, "this")
    return f"ANALYZE{verbose} {table}" if table else f"ANALYZE{verbose}"


def _explain_sql(self: PostgresGenerator, e: Explain) -> str:
    analyze = " ANALYZE" if e.args.get("analyze") else ""
    verbose = " VERBOSE" if e.args.get("verbose") else ""
    return f"EXPLAIN{analyze}{verbose} {self.sql(e, 'this')}"


def _transaction_sql(self: PostgresGenerator, e: exp.Transaction) -> str:
    verb = "START TRANSACTION" if e.args.get("this") == "START" else "BEGIN"
    modes = self.expressions(e, key="modes", flat=True)
    return f"{verb} {modes}" if modes else verb


class SqlvecGenerator(PostgresGenerator):
    TRANSFORMS: t.ClassVar[dict[type[exp.Expr], t.Callable[..., str]]] = {
        **PostgresGenerator.TRANSFORMS,
        **dict.fromkeys(DISTANCE_OPERATORS, _distance_sql),
        CreateCollection: _create_collection_sql,
        DropCollection: _drop_collection_sql,
        ShowCollections: lambda self, e: f"SHOW {e.args.get('kind') or 'COLLECTIONS'}",
        Show: lambda self, e: f"SHOW {_setting_name(e.name)}",
        SetVariable: _set_variable_sql,
        DefaultValue: lambda self, e: "DEFAULT",
        ResetVariable: lambda self, e: f"RESET {_setting_name(e.name)}",
        Savepoint: _savepoint_sql,
        exp.Transaction: _transaction_sql,
        CreatePartition: _partition_ddl_sql,
        DropPartition: _partition_ddl_sql,
        ShowPartitions: lambda self, e: f"SHOW PARTITIONS FROM {self.sql(e, 'collection')}",
        CreateVectorIndex: _create_index_sql,
        DropVectorIndex: _drop_index_sql,
        Flush: _flush_sql,
        Compact: lambda self, e: f"COMPACT {self.sql(e, 'this')}",
        AnalyzeCollection: _analyze_sql,
        Explain: _explain_sql,
    }

    def table_parts(self, expression: exp.Table) -> str:
        # Called by table_sql for the name alone, so the tags land between name and alias:
        # `docs PARTITION (a, b) AS d`, and `INSERT INTO docs PARTITION (a) (cols) ...`.
        name = super().table_parts(expression)
        tags = expression.args.get("partitions")
        if not tags:
            tag = _insert_partition_tag(expression)
            tags = [tag] if tag else None
        return name + _partition_clause_sql(self, tags) if tags else name
