"""The emulated catalog's rows that describe collections: pg_class, pg_attribute, pg_index,
pg_constraint, pg_attrdef and their lookup tables, rebuilt after DDL; and the OIDs they use.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

from sqlvec.engine import information_schema
from sqlvec.engine import pg_types_data as types
from sqlvec.engine.catalog import CollectionSpec, ColumnSpec
from sqlvec.engine.index_types import IndexDef
from sqlvec.engine.pg_catalog_relations import (
    BTREE_AM,
    DYNAMIC,
    HEAP_AM,
    INDEX_AMS,
    METRIC_OPCLASS,
    OWNER_OID,
    SYSTEM_RELATION_OIDS,
)

CONSTRAINT_OFFSET = 63  # a collection's primary key constraint: its pg_class OID + this
ATTRDEF_OFFSET = 32  # the pg_attrdef row of column n: its pg_class OID + this + n


def opclass_oid(am: int, metric: str) -> int:
    """One vector operator class per index access method and metric."""
    return (
        16420
        + (am - INDEX_AMS["hnsw"]) * len(METRIC_OPCLASS)
        + list(METRIC_OPCLASS).index(metric if metric in METRIC_OPCLASS else "l2")
    )


def system_relation_oid(name: str) -> int:
    """A catalog relation's own OID (its rows' `tableoid`); 0 for those sqlvec keeps none of."""
    return SYSTEM_RELATION_OIDS.get(name, 0)


def relation_oid(name: str) -> int:
    """A collection's pg_class OID: stable across restarts (clients cache OIDs), from its name.

    Its indexes take the next few OIDs (pkey +1, the vector index of column n +1+n)."""
    return 100_000 + (zlib.crc32(name.encode()) % 30_000_000) * 64


def dynamic_rows(collections: Sequence[Any]) -> dict[str, list[tuple[Any, ...]]]:
    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in DYNAMIC}
    for name, oid in SYSTEM_RELATION_OIDS.items():
        rows["pg_class"].append(_class_row(oid, name, types.PG_CATALOG_NAMESPACE, "r", HEAP_AM, 0))
    for spec, indexes in collections:
        _collection_rows(spec, indexes, rows)
    rows["sqlvec_relation_names"] = [(row[0], row[1]) for row in rows["pg_class"]]
    return rows


def _collection_rows(
    spec: CollectionSpec, indexes: dict[str, IndexDef], rows: dict[str, list[tuple[Any, ...]]]
) -> None:
    oid = relation_oid(spec.name)
    ns = types.PUBLIC_NAMESPACE
    rows["pg_class"].append(_class_row(oid, spec.name, ns, "r", HEAP_AM, len(spec.columns)))
    for number, column in enumerate(spec.columns, start=1):
        not_null = column.not_null or column.primary_key
        rows["pg_attribute"].append(_attribute_row(oid, column, number, not_null, column.generated))
        if column.generated:
            rows["pg_attrdef"].append(_serial_default(oid, number, spec.name, column.name))
    defaults = {
        spec.columns[row[2] - 1].name: row[3] for row in rows["pg_attrdef"] if row[1] == oid
    }
    rows[information_schema.RELATION] += information_schema.column_rows(spec, defaults)
    key = spec.id_column
    key_number = spec.columns.index(key) + 1
    pkey = f"{spec.name}_pkey"
    table = f"public.{_quote(spec.name)}"
    rows["pg_class"].append(_class_row(oid + 1, pkey, ns, "i", BTREE_AM, 1))
    rows["pg_index"].append(_index_row(oid + 1, oid, key_number, True))
    rows["pg_constraint"].append(
        (
            oid + CONSTRAINT_OFFSET,
            pkey,
            ns,
            "p",
            False,
            False,
            True,
            oid,
            0,
            oid + 1,
            0,
            0,
            " ",
            " ",
            " ",
            True,
            0,
            True,
            [key_number],
            None,
            None,
            None,
            None,
            None,
            None,
            None,
        )
    )
    rows["sqlvec_definitions"].append(
        (oid + 1, f"CREATE UNIQUE INDEX {_quote(pkey)} ON {table} USING btree ({_quote(key.name)})")
    )
    rows["sqlvec_definitions"].append(
        (oid + CONSTRAINT_OFFSET, f"PRIMARY KEY ({_quote(key.name)})")
    )
    rows["sqlvec_index_columns"].append((oid + 1, 1, key.name))
    # An index's own pg_attribute rows: its key column, as `\d index_name` shows it.
    rows["pg_attribute"].append(_attribute_row(oid + 1, key, 1, True))
    for column_name, index in indexes.items():
        number = spec.columns.index(spec.column(column_name)) + 1
        index_oid = oid + 1 + number
        am = INDEX_AMS.get(index.type, INDEX_AMS["faiss"])
        options = [f"{k}={v}" for k, v in index.params.items()]
        rows["pg_class"].append(_class_row(index_oid, index.name, ns, "i", am, 1, options))
        opclass = opclass_oid(am, index.metric)
        rows["pg_index"].append(_index_row(index_oid, oid, number, False, opclass))
        params = ", ".join(options)
        definition = (
            f"CREATE INDEX {_quote(index.name)} ON {table} USING {index.type} "
            f"({_quote(column_name)} {METRIC_OPCLASS.get(index.metric, 'vector_l2_ops')})"
            + (f" WITH ({params})" if params else "")
        )
        rows["sqlvec_definitions"].append((index_oid, definition))
        rows["sqlvec_index_columns"].append((index_oid, 1, column_name))
        rows["pg_attribute"].append(_attribute_row(index_oid, spec.column(column_name), 1, False))


def _attribute_row(
    relation: int, column: ColumnSpec, number: int, not_null: bool, has_default: bool = False
) -> tuple[Any, ...]:
    """A pg_attribute row: column `number` of a collection or of one of its indexes."""
    row = types.BY_OID.get(column.type.oid)
    return (
        relation,
        column.name,
        column.type.oid,
        -1,
        column.type.typlen,
        number,
        0,
        -1,
        column.typmod,
        row.byval if row else False,
        row.align if row else "i",
        row.storage if row else "x",
        "",
        not_null,
        has_default,  # atthasdef: a table's generated column, its nextval() default
        False,
        "",
        "",
        False,
        True,
        0,
        row.collation if row else 0,
        None,
        None,
        None,
        None,
    )


def _serial_default(table: int, number: int, table_name: str, column: str) -> tuple[Any, ...]:
    """A generated column as PostgreSQL shows a SERIAL one: a nextval() default of the sequence
    `<table>_<column>_seq`, so SQLAlchemy reflects `autoincrement` and pgjdbc
    `IS_AUTOINCREMENT`. (sqlvec keeps no sequence relation; the name is only shown.)"""
    sequence = _quote(f"{table_name}_{column}_seq").replace("'", "''")
    return (table + ATTRDEF_OFFSET + number, table, number, f"nextval('{sequence}'::regclass)")


def _class_row(
    oid: int,
    name: str,
    namespace: int,
    kind: str,
    am: int,
    columns: int,
    options: list[str] | None = None,
) -> tuple[Any, ...]:
    return (
        oid,
        name,
        namespace,
        0,
        0,
        OWNER_OID,
        am,
        oid,
        0,
        0,
        -1.0,
        0,
        0,
        kind == "r",
        False,
        "p",
        kind,
        columns,
        0,
        False,
        False,
        False,
        False,
        False,
        True,
        "d",
        False,
        0,
        0,
        0,
        None,
        options,  # reloptions: an index's WITH (...)
        None,
    )


def _index_row(
    oid: int, table: int, column: int, primary: bool, opclass: int = 0
) -> tuple[Any, ...]:
    return (
        oid,
        table,
        1,
        1,
        primary,
        False,
        primary,
        False,
        True,
        False,
        True,
        False,
        True,
        True,
        False,
        [column],
        [0],
        [opclass],
        [0],
        None,
        None,
    )


def _quote(name: str) -> str:
    if name.isidentifier() and name == name.lower():
        return name
    return '"' + name.replace('"', '""') + '"'
