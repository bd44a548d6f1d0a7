"""SQL text back from sqlvec's nodes (round trips, EXPLAIN, logs), via Generator.TRANSFORMS."""

from __future__ import annotations

import re
import typing as t

from sqlglot import exp
from sqlglot.generators.postgres import PostgresGenerator

from sqlvec.parser.nodes import (
    DISTANCE_OPERATORS,
    CreateCollection,
    DefaultValue,
    DropCollection,
    ResetVariable,
    Savepoint,
    SetVariable,
    Show,
    ShowCollections,
    VectorDistance,
)

_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_$]*\Z")
_SAVEPOINT_VERBS = {
    "savepoint": "SAVEPOINT",
    "release": "RELEASE SAVEPOINT",
    "rollback_to": "ROLLBACK TO SAVEPOINT",
}


def _setting_name(name: str) -> str:
    return "ALL" if name == "all" else name


def _distance_sql(self: PostgresGenerator, e: VectorDistance) -> str:
    return self.binary(e, e.operator)


def _create_collection_sql(self: PostgresGenerator, e: CreateCollection) -> str:
    exists = " IF NOT EXISTS" if e.args.get("exists") else ""
    options = ", ".join(
        f"{option.name} = {self.sql(option, 'value')}" for option in e.args.get("options") or []
    )
    with_options = f" WITH ({options})" if options else ""
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
    name = e.name if _PLAIN_NAME.match(e.name) else self.sql(exp.to_identifier(e.name, True))
    return f"{_SAVEPOINT_VERBS[e.args['action']]} {name}"


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
    }
