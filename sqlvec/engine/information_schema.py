"""`information_schema.columns` for collections, as PostgreSQL shows them.

DuckDB's own information_schema lists its views and storage tables with DuckDB's types
(`FLOAT[2]`, `VARCHAR` without length). Clients (SQLAlchemy's `has_table` variants, ORMs,
admin tools) read PostgreSQL's: `character varying` with `character_maximum_length`, `vector`
as `USER-DEFINED` with `udt_name`. The rows are rebuilt with the rest of the emulated catalog
(sqlvec.engine.pg_catalog) after DDL.
"""

from __future__ import annotations

from typing import Any

from sqlvec.engine import pg_types_data as types
from sqlvec.engine.catalog import CollectionSpec, ColumnSpec
from sqlvec.types import BIT, BOOL, FLOAT4, FLOAT8, INT2, INT4, INT8, TEXT, VARCHAR

RELATION = "sqlvec_information_columns"
# information_schema relations clients may name, and the emulated relation behind each.
RELATIONS = {"columns": RELATION}

_NAME, _NUMBER = "VARCHAR", "INTEGER"  # sql_identifier / character_data, cardinal_number
# PostgreSQL 15's columns, in its order.
COLUMNS = ", ".join(
    f"{name} {kind}"
    for name, kind in (
        ("table_catalog", _NAME),
        ("table_schema", _NAME),
        ("table_name", _NAME),
        ("column_name", _NAME),
        ("ordinal_position", _NUMBER),
        ("column_default", _NAME),
        ("is_nullable", _NAME),
        ("data_type", _NAME),
        ("character_maximum_length", _NUMBER),
        ("character_octet_length", _NUMBER),
        ("numeric_precision", _NUMBER),
        ("numeric_precision_radix", _NUMBER),
        ("numeric_scale", _NUMBER),
        ("datetime_precision", _NUMBER),
        ("interval_type", _NAME),
        ("interval_precision", _NUMBER),
        ("character_set_catalog", _NAME),
        ("character_set_schema", _NAME),
        ("character_set_name", _NAME),
        ("collation_catalog", _NAME),
        ("collation_schema", _NAME),
        ("collation_name", _NAME),
        ("domain_catalog", _NAME),
        ("domain_schema", _NAME),
        ("domain_name", _NAME),
        ("udt_catalog", _NAME),
        ("udt_schema", _NAME),
        ("udt_name", _NAME),
        ("scope_catalog", _NAME),
        ("scope_schema", _NAME),
        ("scope_name", _NAME),
        ("maximum_cardinality", _NUMBER),
        ("dtd_identifier", _NAME),
        ("is_self_referencing", _NAME),
        ("is_identity", _NAME),
        ("identity_generation", _NAME),
        ("identity_start", _NAME),
        ("identity_increment", _NAME),
        ("identity_maximum", _NAME),
        ("identity_minimum", _NAME),
        ("identity_cycle", _NAME),
        ("is_generated", _NAME),
        ("generation_expression", _NAME),
        ("is_updatable", _NAME),
    )
)

DATABASE = "sqlvec"
_UNLIMITED_OCTETS = 1073741824  # text and varchar without a length, as Postgres reports them
_MAX_BYTES_PER_CHARACTER = 4  # UTF-8
# (numeric_precision, numeric_precision_radix, numeric_scale) of numeric types.
_NUMERIC = {
    INT2.oid: (16, 2, 0),
    INT4.oid: (32, 2, 0),
    INT8.oid: (64, 2, 0),
    FLOAT4.oid: (24, 2, None),
    FLOAT8.oid: (53, 2, None),
}
_DATA_TYPES = {
    BOOL.oid: "boolean",
    INT2.oid: "smallint",
    INT4.oid: "integer",
    INT8.oid: "bigint",
    FLOAT4.oid: "real",
    FLOAT8.oid: "double precision",
    TEXT.oid: "text",
    VARCHAR.oid: "character varying",
    BIT.oid: "bit",
}  # others (pgvector's types) are USER-DEFINED


def column_rows(spec: CollectionSpec, defaults: dict[str, str]) -> list[tuple[Any, ...]]:
    """One row per column of a collection; `defaults` holds column defaults as SQL text."""
    return [
        _row(spec, column, number, defaults.get(column.name))
        for number, column in enumerate(spec.columns, start=1)
    ]


def _row(
    spec: CollectionSpec, column: ColumnSpec, number: int, default: str | None
) -> tuple[Any, ...]:
    oid = column.type.oid
    type_row = types.BY_OID.get(oid)
    in_pg_catalog = type_row is None or type_row.namespace == types.PG_CATALOG_NAMESPACE
    udt_schema = "pg_catalog" if in_pg_catalog else "public"
    precision, radix, scale = _NUMERIC.get(oid, (None, None, None))
    length = column.max_length
    text = oid in (TEXT.oid, VARCHAR.oid)
    octets = None
    if text:
        octets = length * _MAX_BYTES_PER_CHARACTER if length is not None else _UNLIMITED_OCTETS
    collation = (DATABASE, "pg_catalog", "default") if text else (None, None, None)
    nullable = not (column.not_null or column.primary_key)
    return (
        DATABASE,
        "public",
        spec.name,
        column.name,
        number,
        default,
        "YES" if nullable else "NO",
        _DATA_TYPES.get(oid, "USER-DEFINED"),
        column.dim if oid == BIT.oid else length,
        octets,
        precision,
        radix,
        scale,
        None,
        None,
        None,
        None,
        None,
        None,
        *collation,
        None,
        None,
        None,
        DATABASE,
        udt_schema,
        type_row.typname if type_row is not None else column.type.name,
        None,
        None,
        None,
        None,
        str(number),
        "NO",
        "NO",
        None,
        None,
        None,
        None,
        None,
        "NO",
        "NEVER",
        None,
        "YES",
    )
