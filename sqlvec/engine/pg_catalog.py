"""PostgreSQL's system catalogs, emulated as real DuckDB relations clients' SQL runs against.

psql's meta-commands, drivers' type lookups (psycopg TypeInfo, asyncpg's introspection, pgvector's
register_vector) and SQLAlchemy's inspector send catalog SQL with joins, recursive CTEs and
window functions; sqlvec answers it by running that SQL in DuckDB over tables shaped like
PostgreSQL 15's catalogs. They live in an in-memory database attached as `sqlvec_pg` (DuckDB's
own `pg_catalog` cannot be extended), never in the data file, so they are rebuilt from sqlvec's
catalog at start-up and again after DDL (`refresh`, keyed on Engine.catalog_version). The
planner's rewrite pass (planner/pg_catalog.py) points `pg_catalog.pg_type` and friends at these
tables and PostgreSQL's catalog functions at its macros.

PgCatalog creates and fills them: the relations' layout is in pg_catalog_relations.py, the
macros in pg_catalog_macros.py, the rows that describe collections in pg_catalog_rows.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import duckdb

from sqlvec.engine import pg_objects_data as objects
from sqlvec.engine import pg_types_data as types
from sqlvec.engine.pg_catalog_macros import MACROS
from sqlvec.engine.pg_catalog_relations import (
    BTREE_AM,
    CHAR_TYPE,
    DYNAMIC,
    HEAP_AM,
    INDEX_AMS,
    METRIC_OPCLASS,
    OWNER_OID,
    PREFIX,
    RELATIONS,
    SCHEMA,
    SYSTEM_RELATION_OIDS,
)
from sqlvec.engine.pg_catalog_rows import dynamic_rows, opclass_oid
from sqlvec.settings import DEFAULTS

# Every value a "char" column holds; DuckDB describes the type as ENUM('', '!', ...).
_CHAR_VALUES = ["", *(chr(c) for c in range(0x20, 0x7F))]
DATABASE_OID = 16384
TABLESPACE_OID = 1663


class PgCatalog:
    """The `sqlvec_pg` relations and macros inside one DuckDB database instance."""

    def __init__(
        self,
        cursor: Callable[[], duckdb.DuckDBPyConnection],
        specs: Callable[[], Sequence[Any]],
    ) -> None:
        """`cursor()` is the calling thread's DuckDB cursor; `specs()` returns
        (CollectionSpec, {column: IndexDef}) for every collection."""
        self._cursor = cursor
        self._specs = specs
        self._lock = threading.Lock()
        self._version: int | None = None
        setup = cursor()
        setup.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {SCHEMA}")
        values = ", ".join("'" + v.replace("'", "''") + "'" for v in _CHAR_VALUES)
        setup.execute(f"CREATE TYPE {CHAR_TYPE} AS ENUM ({values})")
        for name, columns in RELATIONS.items():
            columns = columns.replace(" pgchar", f" {CHAR_TYPE}")
            setup.execute(f"CREATE TABLE {PREFIX}.{name} ({columns})")
        self._static_rows(setup)
        for name, overloads in MACROS.items():
            bodies = ", ".join(f"({params}) AS {body}" for params, body in overloads)
            setup.execute(f"CREATE MACRO {PREFIX}.{name} {bodies}")

    def refresh(self, version: int) -> None:
        """Rebuild the relations that describe collections when the catalog changed."""
        if self._version == version:
            return
        with self._lock:
            if self._version == version:
                return
            rows = dynamic_rows(self._specs())
            cursor = self._cursor()
            cursor.execute("BEGIN TRANSACTION")
            try:
                for name in DYNAMIC:
                    cursor.execute(f"DELETE FROM {PREFIX}.{name}")
                    _insert(cursor, name, rows[name])
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")
            self._version = version

    def _static_rows(self, cursor: duckdb.DuckDBPyConnection) -> None:
        _insert(
            cursor,
            "pg_namespace",
            [
                (types.PG_CATALOG_NAMESPACE, "pg_catalog", OWNER_OID, None),
                (types.PUBLIC_NAMESPACE, "public", OWNER_OID, None),
                (types.INFORMATION_SCHEMA_NAMESPACE, "information_schema", OWNER_OID, None),
                (types.PG_TOAST_NAMESPACE, "pg_toast", OWNER_OID, None),
            ],
        )
        _insert(cursor, "pg_type", [_type_row(row) for row in types.TYPES])
        names = [
            (row.oid, row.typname, row.display, row.oid in types.TYPMOD_TYPES)
            for row in types.TYPES
        ]
        _insert(cursor, "sqlvec_type_names", names)
        _insert(
            cursor,
            "sqlvec_namespace_names",
            [
                (types.PG_CATALOG_NAMESPACE, "pg_catalog"),
                (types.PUBLIC_NAMESPACE, "public"),
                (types.INFORMATION_SCHEMA_NAMESPACE, "information_schema"),
                (types.PG_TOAST_NAMESPACE, "pg_toast"),
            ],
        )
        _insert(cursor, "sqlvec_type_aliases", types.type_aliases())
        ams = [
            (HEAP_AM, "heap", "heap_tableam_handler", "t"),
            (BTREE_AM, "btree", "bthandler", "i"),
        ]
        ams += [(oid, name, f"{name}handler", "i") for name, oid in INDEX_AMS.items()]
        _insert(cursor, "pg_am", ams)
        _insert(
            cursor,
            "pg_collation",
            [
                (
                    types.DEFAULT_COLLATION,
                    "default",
                    types.PG_CATALOG_NAMESPACE,
                    OWNER_OID,
                    "d",
                    True,
                    -1,
                    None,
                    None,
                    None,
                    None,
                ),
                (
                    types.C_COLLATION,
                    "C",
                    types.PG_CATALOG_NAMESPACE,
                    OWNER_OID,
                    "c",
                    True,
                    -1,
                    "C",
                    "C",
                    None,
                    None,
                ),
            ],
        )
        _insert(
            cursor,
            "pg_database",
            [
                (
                    DATABASE_OID,
                    "sqlvec",
                    OWNER_OID,
                    6,
                    "c",
                    False,
                    True,
                    -1,
                    0,
                    0,
                    TABLESPACE_OID,
                    "C.UTF-8",
                    "C.UTF-8",
                    None,
                    None,
                    None,
                ),
            ],
        )
        _insert(
            cursor,
            "pg_roles",
            [
                (
                    "sqlvec",
                    True,
                    True,
                    True,
                    True,
                    True,
                    True,
                    -1,
                    "********",
                    None,
                    True,
                    None,
                    OWNER_OID,
                ),
            ],
        )
        _insert(
            cursor,
            "pg_tablespace",
            [
                (TABLESPACE_OID, "pg_default", OWNER_OID, None, None),
                (1664, "pg_global", OWNER_OID, None, None),
            ],
        )
        _insert(
            cursor,
            "pg_extension",
            [
                (*_extension("plpgsql"), types.PG_CATALOG_NAMESPACE, False, "1.0", None, None),
                (*_extension("vector"), types.PUBLIC_NAMESPACE, True, "0.8.0", None, None),
            ],
        )
        settings = dict(DEFAULTS)
        rows = [objects.setting_row(k, v) for k, v in sorted(settings.items())]
        _insert(cursor, "pg_settings", rows)
        _insert(cursor, "sqlvec_settings", sorted(settings.items()))
        _object_rows(cursor)
        opclasses = [
            (
                opclass_oid(am, metric),
                am,
                name,
                types.PUBLIC_NAMESPACE,
                OWNER_OID,
                0,
                16385,
                # pgvector: ivfflat's vector_l2_ops is the default, hnsw has none, so
                # SQLAlchemy reflects the operator class (postgresql_ops) as PostgreSQL does.
                am == INDEX_AMS["ivfflat"] and metric == "l2",
                0,
            )
            for am in INDEX_AMS.values()
            for metric, name in METRIC_OPCLASS.items()
        ]
        _insert(cursor, "pg_opclass", opclasses)


def _object_rows(cursor: duckdb.DuckDBPyConnection) -> None:
    """pg_proc, pg_operator, pg_language and the comments on them and on the extensions."""
    _insert(
        cursor,
        "pg_language",
        [
            (o, name, OWNER_OID, pl, trusted, handler, 0, 0, None)
            for o, name, pl, trusted, handler in objects.LANGUAGES
        ],
    )
    _insert(cursor, "pg_proc", [_proc_row(f) for f in objects.FUNCTIONS])
    _insert(
        cursor,
        "sqlvec_functions",
        [
            (f.oid, _type_display(f.result), ", ".join(map(_type_display, f.arguments)))
            for f in objects.FUNCTIONS
        ],
    )
    _insert(cursor, "pg_operator", [_operator_row(o) for o in objects.OPERATORS])
    extensions = objects.EXTENSIONS
    _insert(
        cursor,
        "pg_available_extensions",
        [
            (name, version, version, objects.EXTENSION_COMMENTS[name])
            for name, (_, version) in extensions.items()
        ],
    )
    comments = [
        (oid, SYSTEM_RELATION_OIDS["pg_extension"], objects.EXTENSION_COMMENTS[name])
        for name, (oid, _) in extensions.items()
    ]
    language = SYSTEM_RELATION_OIDS["pg_language"]
    comments.append((objects.LANGUAGE_PLPGSQL, language, objects.PLPGSQL_COMMENT))
    _insert(cursor, "sqlvec_descriptions", comments)
    _insert(cursor, "pg_description", [(o, c, 0, text) for o, c, text in comments])


def _extension(name: str) -> tuple[int, str, int]:
    return objects.EXTENSIONS[name][0], name, OWNER_OID


def _type_display(oid: int) -> str:
    row = types.BY_OID.get(oid)
    return row.display if row else "???"


def _proc_row(function: objects.FunctionRow) -> tuple[Any, ...]:
    aggregate = function.kind == "a"
    return (
        function.oid,
        function.name,
        types.PUBLIC_NAMESPACE,
        OWNER_OID,
        objects.LANGUAGE_INTERNAL if aggregate else objects.LANGUAGE_C,
        1.0,
        0.0,
        0,
        "-",
        function.kind,
        False,
        False,
        not aggregate,
        False,
        "i",
        "s",
        len(function.arguments),
        0,
        function.result,
        list(function.arguments),
        None,
        None,
        None,
        None,
        None,
        function.source,
        None if aggregate else "$libdir/vector",
        None,
        None,
        None,
    )


def _operator_row(operator: objects.OperatorRow) -> tuple[Any, ...]:
    return (
        operator.oid,
        operator.name,
        types.PUBLIC_NAMESPACE,
        OWNER_OID,
        "b",
        False,
        False,
        operator.left,
        operator.right,
        operator.result,
        operator.commutator,
        0,
        operator.function,
        "-",
        "-",
    )


def _type_row(row: types.TypeRow) -> tuple[Any, ...]:
    io = row.io or row.typname
    return (
        row.oid,
        row.typname,
        row.namespace,
        OWNER_OID,
        row.typlen,
        row.byval,
        row.typtype,
        row.category,
        False,
        True,
        ",",
        0,
        "array_subscript_handler" if row.elem else "-",
        row.elem,
        row.array_oid,
        f"{io}_in",
        f"{io}_out",
        f"{io}_recv",
        f"{io}_send",
        "-",
        "-",
        "-",
        row.align,
        row.storage,
        False,
        0,
        -1,
        0,
        row.collation,
        None,
        None,
        None,
    )


def _insert(cursor: duckdb.DuckDBPyConnection, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
    if not rows:
        return
    marks = ", ".join("?" * len(rows[0]))
    cursor.executemany(f"INSERT INTO {PREFIX}.{table} VALUES ({marks})", [list(r) for r in rows])
