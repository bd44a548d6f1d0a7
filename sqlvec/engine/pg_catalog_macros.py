"""DuckDB macros standing in for PostgreSQL's catalog functions (format_type, to_regtype,
pg_get_indexdef, obj_description, ...), over the lookup tables of the emulated catalog.

PgCatalog (sqlvec.engine.pg_catalog) creates them; the planner's rewrite pass
(planner/pg_catalog.py) points clients' calls at them.
"""

from __future__ import annotations

from sqlvec.engine.pg_catalog_relations import OWNER_OID, PREFIX

# The macros' lookup tables: column names no client query uses, because a macro's arguments
# are substituted as written (`oid` passed in must not bind to a lookup table's column).
_TYPE_NAMES = f"{PREFIX}.sqlvec_type_names"
_ALIASES = f"{PREFIX}.sqlvec_type_aliases"
_DEFINITIONS = f"{PREFIX}.sqlvec_definitions"
_RELATIONS = f"{PREFIX}.sqlvec_relation_names"
_INDEX_COLUMNS = f"{PREFIX}.sqlvec_index_columns"
_NAMESPACES = f"{PREFIX}.sqlvec_namespace_names"
_SETTINGS = f"{PREFIX}.sqlvec_settings"
_TYPE_IN = (
    f"(SELECT sqlvec_alias_oid FROM {_ALIASES} WHERE sqlvec_alias = "
    r"lower(regexp_replace(trim(CAST(n AS VARCHAR)), '\s*\([0-9, ]*\)', '')))"
)
_SETTING = f"(SELECT sqlvec_value FROM {_SETTINGS} WHERE sqlvec_setting = lower(n))"
_DEFINITION = f"(SELECT sqlvec_definition FROM {_DEFINITIONS} WHERE sqlvec_def_oid = o)"


_FUNCTIONS = f"{PREFIX}.sqlvec_functions"
_DESCRIPTIONS = f"{PREFIX}.sqlvec_descriptions"
# regproc values (pg_operator.oprcode) are names here: they describe nothing.
_DESCRIPTION = (
    f"(SELECT min(sqlvec_desc_text) FROM {_DESCRIPTIONS} "
    "WHERE sqlvec_desc_oid = TRY_CAST(o AS UINTEGER))"
)
_DESCRIPTION_OF_CLASS = (
    f"(SELECT sqlvec_desc_text FROM {_DESCRIPTIONS} "
    "WHERE sqlvec_desc_oid = TRY_CAST(o AS UINTEGER) AND "
    f"sqlvec_desc_class = (SELECT min(sqlvec_rel_oid) FROM {_RELATIONS} "
    "WHERE sqlvec_relname = CAST(c AS VARCHAR)))"
)


def _function_text(column: str) -> str:
    """pg_get_function_result / _arguments: the text kept for each of pg_proc's rows."""
    return f"(SELECT {column} FROM {_FUNCTIONS} WHERE sqlvec_fn_oid = o)"


def _name_or_oid(table: str, name: str, oid: str) -> str:
    return (
        f"CASE WHEN o IS NULL THEN NULL ELSE coalesce((SELECT {name} FROM {table} "
        f"WHERE {oid} = o), CAST(o AS VARCHAR)) END"
    )


# name -> [(parameters, body)]: DuckDB macros (overloads by parameter count).
MACROS: dict[str, list[tuple[str, str]]] = {
    "pg_get_userbyid": [
        ("o", f"CASE WHEN o = {OWNER_OID} THEN 'sqlvec' ELSE 'unknown (OID=' || o || ')' END")
    ],
    "pg_encoding_to_char": [("e", "CASE WHEN e = 6 THEN 'UTF8' ELSE 'SQL_ASCII' END")],
    "pg_table_is_visible": [("o", "true")],
    "pg_type_is_visible": [("o", "true")],
    "pg_collation_is_visible": [("o", "true")],
    "pg_function_is_visible": [("o", "true")],
    "pg_operator_is_visible": [("o", "true")],
    "pg_opclass_is_visible": [("o", "true")],
    "pg_opfamily_is_visible": [("o", "true")],
    "pg_conversion_is_visible": [("o", "true")],
    "pg_relation_is_publishable": [("o", "false")],
    "pg_is_in_recovery": [("", "false")],
    "pg_advisory_unlock_all": [("", "NULL::VARCHAR")],
    "has_table_privilege": [("a, b", "true"), ("a, b, c", "true")],
    "has_schema_privilege": [("a, b", "true"), ("a, b, c", "true")],
    "has_database_privilege": [("a, b", "true"), ("a, b, c", "true")],
    "has_any_column_privilege": [("a, b", "true"), ("a, b, c", "true")],
    "pg_total_relation_size": [("o", "0::BIGINT")],
    "pg_relation_size": [("o", "0::BIGINT"), ("o, f", "0::BIGINT")],
    "pg_table_size": [("o", "0::BIGINT")],
    "pg_indexes_size": [("o", "0::BIGINT")],
    "pg_get_expr": [("e, r", "e"), ("e, r, p", "e")],
    "pg_get_function_result": [("o", _function_text("sqlvec_fn_result"))],
    "pg_get_function_arguments": [("o", _function_text("sqlvec_fn_arguments"))],
    "pg_get_function_identity_arguments": [("o", _function_text("sqlvec_fn_arguments"))],
    "pg_get_function_sqlbody": [("o", "NULL::VARCHAR")],
    "pg_statistics_obj_is_visible": [("o", "true")],
    "pg_char_to_encoding": [("e", "CASE WHEN e = 'UTF8' THEN 6 ELSE 0 END")],
    "getdatabaseencoding": [("", "'UTF8'")],
    "pg_tablespace_location": [("o", "''")],
    "pg_database_size": [("o", "0::BIGINT")],
    "pg_get_statisticsobjdef_columns": [("o", "NULL::VARCHAR")],
    "pg_get_serial_sequence": [("t, c", "NULL::VARCHAR")],
    "pg_get_partkeydef": [("o", "NULL::VARCHAR")],
    "pg_get_viewdef": [("o", "NULL::VARCHAR"), ("o, p", "NULL::VARCHAR")],
    "obj_description": [("o", _DESCRIPTION), ("o, c", _DESCRIPTION_OF_CLASS)],
    "shobj_description": [("o, c", "NULL::VARCHAR")],
    "col_description": [("o, n", "NULL::VARCHAR")],
    "array_upper": [("a, d", "CASE WHEN len(a) = 0 THEN NULL ELSE len(a) END")],
    "array_lower": [("a, d", "CASE WHEN len(a) = 0 THEN NULL ELSE 1 END")],
    "quote_ident": [
        (
            "s",
            "CASE WHEN regexp_full_match(s, '[a-z_][a-z0-9_$]*') THEN s "
            "ELSE '\"' || replace(s, '\"', '\"\"') || '\"' END",
        )
    ],
    "set_config": [("n, v, l", "v")],
    "current_setting": [("n", _SETTING), ("n, m", _SETTING)],
    "to_regtype": [("n", _TYPE_IN)],
    "regtype_in": [("n", _TYPE_IN)],
    "regtype_out": [("o", _name_or_oid(_TYPE_NAMES, "sqlvec_display", "sqlvec_type_oid"))],
    "format_type": [
        (
            "o, m",
            # char(n) and varchar(n) keep n + 4 in their typmod, as in Postgres.
            "CASE WHEN o IS NULL THEN NULL ELSE coalesce((SELECT CASE WHEN sqlvec_typmod_type "
            "AND m > 0 THEN sqlvec_display || '(' || "
            "(CASE WHEN o IN (1042, 1043) THEN m - 4 ELSE m END) || ')' ELSE sqlvec_display END "
            f"FROM {_TYPE_NAMES} WHERE sqlvec_type_oid = o), '???') END",
        )
    ],
    "regclass_in": [
        (
            "n",
            f"(SELECT min(sqlvec_rel_oid) FROM {_RELATIONS} WHERE sqlvec_relname = "
            r"regexp_replace(replace(CAST(n AS VARCHAR), '\"', ''), "
            r"'^(pg_catalog|public)\.', ''))",
        )
    ],
    "regclass_out": [("o", _name_or_oid(_RELATIONS, "sqlvec_relname", "sqlvec_rel_oid"))],
    "regnamespace_in": [
        ("n", f"(SELECT sqlvec_ns_oid FROM {_NAMESPACES} WHERE sqlvec_nspname = n)")
    ],
    "regnamespace_out": [("o", _name_or_oid(_NAMESPACES, "sqlvec_nspname", "sqlvec_ns_oid"))],
    "pg_get_indexdef": [
        ("o", _DEFINITION),
        (
            "o, c, p",
            f"CASE WHEN c = 0 THEN {_DEFINITION} ELSE (SELECT sqlvec_colname FROM "
            f"{_INDEX_COLUMNS} WHERE sqlvec_index_oid = o AND sqlvec_colno = c) END",
        ),
    ],
    "pg_get_constraintdef": [("o", _DEFINITION), ("o, p", _DEFINITION)],
    # information_schema._pg_expandarray: a set of (x element, n position) records; DuckDB
    # zips the unnests of one select list as PostgreSQL does with set-returning functions.
    "_pg_expandarray": [
        (
            "a",
            "unnest(list_transform(range(len(a)), "
            "lambda i: {'x': a[i + 1], 'n': CAST(i + 1 AS INTEGER)}))",
        )
    ],
}
