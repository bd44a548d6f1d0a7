"""PostgreSQL's system catalogs, emulated as real DuckDB relations clients' SQL runs against.

psql's meta-commands, drivers' type lookups (psycopg TypeInfo, asyncpg's introspection, pgvector's
register_vector) and SQLAlchemy's inspector send catalog SQL with joins, recursive CTEs and
window functions; sqlvec answers it by running that SQL in DuckDB over tables shaped like
PostgreSQL 15's catalogs. They live in an in-memory database attached as `sqlvec_pg` (DuckDB's
own `pg_catalog` cannot be extended), never in the data file, so they are rebuilt from sqlvec's
catalog at start-up and again after DDL (`refresh`, keyed on Engine.catalog_version). The
planner's rewrite pass (planner/pg_catalog.py) points `pg_catalog.pg_type` and friends at these
tables and PostgreSQL's catalog functions at the macros defined here.

Column types follow PostgreSQL's: oid columns are UINTEGER (reported as oid), "char" columns
use the enum type `pgchar` (reported as "char"), name columns are VARCHAR (reported as text).
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import duckdb

from sqlvec.engine import information_schema
from sqlvec.engine import pg_objects_data as objects
from sqlvec.engine import pg_types_data as types
from sqlvec.engine.catalog import CollectionSpec, ColumnSpec
from sqlvec.engine.index_types import IndexDef
from sqlvec.settings import DEFAULTS

SCHEMA = "sqlvec_pg"  # the attached database's name; its tables sit in its `main` schema
PREFIX = f"{SCHEMA}.main"
CHAR_TYPE = f"{PREFIX}.pgchar"
# Every value a "char" column holds; DuckDB describes the type as ENUM('', '!', ...).
_CHAR_VALUES = ["", *(chr(c) for c in range(0x20, 0x7F))]
OWNER_OID = 10  # the one role, as PostgreSQL's bootstrap superuser
CONSTRAINT_OFFSET = 63  # a collection's primary key constraint: its pg_class OID + this
ATTRDEF_OFFSET = 32  # the pg_attrdef row of column n: its pg_class OID + this + n
DATABASE_OID = 16384
TABLESPACE_OID = 1663
HEAP_AM = 2
BTREE_AM = 403
# Index access methods beside btree: pgvector's names and sqlvec's own index types.
_INDEX_AMS = {
    "hnsw": 16400,
    "ivfflat": 16401,
    "flat": 16402,
    "ivf_flat": 16403,
    "ivf_sq8": 16404,
    "ivf_pq": 16405,
    "nsg": 16406,
    "faiss": 16407,
}
_METRIC_OPCLASS = {"l2": "vector_l2_ops", "ip": "vector_ip_ops", "cosine": "vector_cosine_ops"}

C = "pgchar"  # shorthand in the column lists below: a "char" column
OI = "UINTEGER"  # an oid column

# PostgreSQL 15's columns, in its order (psql reads results by position).
RELATIONS: dict[str, str] = {
    "pg_namespace": f"oid {OI}, nspname VARCHAR, nspowner {OI}, nspacl VARCHAR[]",
    "pg_type": (
        f"oid {OI}, typname VARCHAR, typnamespace {OI}, typowner {OI}, typlen SMALLINT, "
        f"typbyval BOOLEAN, typtype {C}, typcategory {C}, typispreferred BOOLEAN, "
        f"typisdefined BOOLEAN, typdelim {C}, typrelid {OI}, typsubscript VARCHAR, typelem {OI}, "
        "typarray UINTEGER, typinput VARCHAR, typoutput VARCHAR, typreceive VARCHAR, "
        f"typsend VARCHAR, typmodin VARCHAR, typmodout VARCHAR, typanalyze VARCHAR, "
        f"typalign {C}, typstorage {C}, typnotnull BOOLEAN, typbasetype {OI}, typtypmod INTEGER, "
        f"typndims INTEGER, typcollation {OI}, typdefaultbin VARCHAR, typdefault VARCHAR, "
        "typacl VARCHAR[]"
    ),
    "pg_range": (
        f"rngtypid {OI}, rngsubtype {OI}, rngmultitypid {OI}, rngcollation {OI}, "
        "rngsubopc UINTEGER, rngcanonical VARCHAR, rngsubdiff VARCHAR"
    ),
    "pg_class": (
        f"oid {OI}, relname VARCHAR, relnamespace {OI}, reltype {OI}, reloftype {OI}, "
        f"relowner {OI}, relam {OI}, relfilenode {OI}, reltablespace {OI}, relpages INTEGER, "
        f"reltuples FLOAT, relallvisible INTEGER, reltoastrelid {OI}, relhasindex BOOLEAN, "
        f"relisshared BOOLEAN, relpersistence {C}, relkind {C}, relnatts SMALLINT, "
        "relchecks SMALLINT, relhasrules BOOLEAN, relhastriggers BOOLEAN, "
        "relhassubclass BOOLEAN, relrowsecurity BOOLEAN, relforcerowsecurity BOOLEAN, "
        f"relispopulated BOOLEAN, relreplident {C}, relispartition BOOLEAN, relrewrite {OI}, "
        "relfrozenxid UINTEGER, relminmxid UINTEGER, relacl VARCHAR[], reloptions VARCHAR[], "
        "relpartbound VARCHAR"
    ),
    "pg_attribute": (
        f"attrelid {OI}, attname VARCHAR, atttypid {OI}, attstattarget INTEGER, "
        "attlen SMALLINT, attnum SMALLINT, attndims INTEGER, attcacheoff INTEGER, "
        f"atttypmod INTEGER, attbyval BOOLEAN, attalign {C}, attstorage {C}, "
        f"attcompression {C}, attnotnull BOOLEAN, atthasdef BOOLEAN, atthasmissing BOOLEAN, "
        f"attidentity {C}, attgenerated {C}, attisdropped BOOLEAN, attislocal BOOLEAN, "
        f"attinhcount INTEGER, attcollation {OI}, attacl VARCHAR[], attoptions VARCHAR[], "
        "attfdwoptions VARCHAR[], attmissingval VARCHAR"
    ),
    "pg_index": (
        f"indexrelid {OI}, indrelid {OI}, indnatts SMALLINT, indnkeyatts SMALLINT, "
        "indisunique BOOLEAN, indnullsnotdistinct BOOLEAN, indisprimary BOOLEAN, "
        "indisexclusion BOOLEAN, indimmediate BOOLEAN, indisclustered BOOLEAN, "
        "indisvalid BOOLEAN, indcheckxmin BOOLEAN, indisready BOOLEAN, indislive BOOLEAN, "
        "indisreplident BOOLEAN, indkey USMALLINT[], indcollation UBIGINT[], "
        "indclass UBIGINT[], indoption USMALLINT[], indexprs VARCHAR, indpred VARCHAR"
    ),
    "pg_constraint": (
        f"oid {OI}, conname VARCHAR, connamespace {OI}, contype {C}, condeferrable BOOLEAN, "
        f"condeferred BOOLEAN, convalidated BOOLEAN, conrelid {OI}, contypid {OI}, "
        f"conindid {OI}, conparentid {OI}, confrelid {OI}, confupdtype {C}, confdeltype {C}, "
        f"confmatchtype {C}, conislocal BOOLEAN, coninhcount INTEGER, connoinherit BOOLEAN, "
        "conkey SMALLINT[], confkey SMALLINT[], conpfeqop UINTEGER[], conppeqop UINTEGER[], "
        "conffeqop UINTEGER[], confdelsetcols SMALLINT[], conexclop UINTEGER[], conbin VARCHAR"
    ),
    "pg_am": f"oid {OI}, amname VARCHAR, amhandler VARCHAR, amtype {C}",
    "pg_attrdef": f"oid {OI}, adrelid {OI}, adnum SMALLINT, adbin VARCHAR",
    "pg_description": f"objoid {OI}, classoid {OI}, objsubid INTEGER, description VARCHAR",
    "pg_collation": (
        f"oid {OI}, collname VARCHAR, collnamespace {OI}, collowner {OI}, collprovider {C}, "
        "collisdeterministic BOOLEAN, collencoding INTEGER, collcollate VARCHAR, "
        "collctype VARCHAR, colliculocale VARCHAR, collversion VARCHAR"
    ),
    "pg_database": (
        f"oid {OI}, datname VARCHAR, datdba {OI}, encoding INTEGER, datlocprovider {C}, "
        "datistemplate BOOLEAN, datallowconn BOOLEAN, datconnlimit INTEGER, "
        f"datfrozenxid UINTEGER, datminmxid UINTEGER, dattablespace {OI}, datcollate VARCHAR, "
        "datctype VARCHAR, daticulocale VARCHAR, datcollversion VARCHAR, datacl VARCHAR[]"
    ),
    "pg_roles": (
        "rolname VARCHAR, rolsuper BOOLEAN, rolinherit BOOLEAN, rolcreaterole BOOLEAN, "
        "rolcreatedb BOOLEAN, rolcanlogin BOOLEAN, rolreplication BOOLEAN, "
        "rolconnlimit INTEGER, rolpassword VARCHAR, rolvaliduntil TIMESTAMPTZ, "
        f"rolbypassrls BOOLEAN, rolconfig VARCHAR[], oid {OI}"
    ),
    "pg_auth_members": f"roleid {OI}, member {OI}, grantor {OI}, admin_option BOOLEAN",
    "pg_inherits": f"inhrelid {OI}, inhparent {OI}, inhseqno INTEGER, inhdetachpending BOOLEAN",
    "pg_policy": (
        f"oid {OI}, polname VARCHAR, polrelid {OI}, polcmd {C}, polpermissive BOOLEAN, "
        "polroles UINTEGER[], polqual VARCHAR, polwithcheck VARCHAR"
    ),
    "pg_statistic_ext": (
        f"oid {OI}, stxrelid {OI}, stxname VARCHAR, stxnamespace {OI}, stxowner {OI}, "
        "stxstattarget INTEGER, stxkeys SMALLINT[], stxkind VARCHAR[], stxexprs VARCHAR"
    ),
    "pg_publication": (
        f"oid {OI}, pubname VARCHAR, pubowner {OI}, puballtables BOOLEAN, pubinsert BOOLEAN, "
        "pubupdate BOOLEAN, pubdelete BOOLEAN, pubtruncate BOOLEAN, pubviaroot BOOLEAN"
    ),
    "pg_publication_namespace": f"oid {OI}, pnpubid {OI}, pnnspid {OI}",
    "pg_publication_rel": (
        f"oid {OI}, prpubid {OI}, prrelid {OI}, prqual VARCHAR, prattrs SMALLINT[]"
    ),
    "pg_sequence": (
        f"seqrelid {OI}, seqtypid {OI}, seqstart BIGINT, seqincrement BIGINT, seqmax BIGINT, "
        "seqmin BIGINT, seqcache BIGINT, seqcycle BOOLEAN"
    ),
    "pg_tablespace": (
        f"oid {OI}, spcname VARCHAR, spcowner {OI}, spcacl VARCHAR[], spcoptions VARCHAR[]"
    ),
    "pg_extension": (
        f"oid {OI}, extname VARCHAR, extowner {OI}, extnamespace {OI}, extrelocatable BOOLEAN, "
        "extversion VARCHAR, extconfig UINTEGER[], extcondition VARCHAR[]"
    ),
    "pg_settings": (
        "name VARCHAR, setting VARCHAR, unit VARCHAR, category VARCHAR, short_desc VARCHAR, "
        "extra_desc VARCHAR, context VARCHAR, vartype VARCHAR, source VARCHAR, "
        "min_val VARCHAR, max_val VARCHAR, enumvals VARCHAR[], boot_val VARCHAR, "
        "reset_val VARCHAR, sourcefile VARCHAR, sourceline INTEGER, pending_restart BOOLEAN"
    ),
    "pg_proc": (
        f"oid {OI}, proname VARCHAR, pronamespace {OI}, proowner {OI}, prolang {OI}, "
        "procost FLOAT, prorows FLOAT, provariadic UINTEGER, prosupport VARCHAR, "
        f"prokind {C}, prosecdef BOOLEAN, proleakproof BOOLEAN, proisstrict BOOLEAN, "
        f"proretset BOOLEAN, provolatile {C}, proparallel {C}, pronargs SMALLINT, "
        f"pronargdefaults SMALLINT, prorettype {OI}, proargtypes UBIGINT[], "
        f"proallargtypes UINTEGER[], proargmodes VARCHAR[], proargnames VARCHAR[], "
        "proargdefaults VARCHAR, protrftypes UINTEGER[], prosrc VARCHAR, probin VARCHAR, "
        "prosqlbody VARCHAR, proconfig VARCHAR[], proacl VARCHAR[]"
    ),
    "pg_language": (
        f"oid {OI}, lanname VARCHAR, lanowner {OI}, lanispl BOOLEAN, lanpltrusted BOOLEAN, "
        f"lanplcallfoid {OI}, laninline {OI}, lanvalidator {OI}, lanacl VARCHAR[]"
    ),
    "pg_operator": (
        f"oid {OI}, oprname VARCHAR, oprnamespace {OI}, oprowner {OI}, oprkind {C}, "
        f"oprcanmerge BOOLEAN, oprcanhash BOOLEAN, oprleft {OI}, oprright {OI}, "
        f"oprresult {OI}, oprcom {OI}, oprnegate {OI}, oprcode VARCHAR, oprrest VARCHAR, "
        "oprjoin VARCHAR"
    ),
    "pg_opfamily": (f"oid {OI}, opfmethod {OI}, opfname VARCHAR, opfnamespace {OI}, opfowner {OI}"),
    "pg_rewrite": (
        f"oid {OI}, rulename VARCHAR, ev_class {OI}, ev_type {C}, ev_enabled {C}, "
        "is_instead BOOLEAN, ev_qual VARCHAR, ev_action VARCHAR"
    ),
    "pg_conversion": (
        f"oid {OI}, conname VARCHAR, connamespace {OI}, conowner {OI}, "
        "conforencoding INTEGER, contoencoding INTEGER, conproc VARCHAR, condefault BOOLEAN"
    ),
    "pg_cast": (
        f"oid {OI}, castsource {OI}, casttarget {OI}, castfunc {OI}, castcontext {C}, "
        f"castmethod {C}"
    ),
    "pg_foreign_data_wrapper": (
        f"oid {OI}, fdwname VARCHAR, fdwowner {OI}, fdwhandler {OI}, fdwvalidator {OI}, "
        "fdwacl VARCHAR[], fdwoptions VARCHAR[]"
    ),
    "pg_foreign_server": (
        f"oid {OI}, srvname VARCHAR, srvowner {OI}, srvfdw {OI}, srvtype VARCHAR, "
        "srvversion VARCHAR, srvacl VARCHAR[], srvoptions VARCHAR[]"
    ),
    "pg_foreign_table": f"ftrelid {OI}, ftserver {OI}, ftoptions VARCHAR[]",
    "pg_user_mappings": (
        f"umid {OI}, srvid {OI}, srvname VARCHAR, umuser {OI}, usename VARCHAR, umoptions VARCHAR[]"
    ),
    "pg_event_trigger": (
        f"oid {OI}, evtname VARCHAR, evtevent VARCHAR, evtowner {OI}, evtfoid {OI}, "
        f"evtenabled {C}, evttags VARCHAR[]"
    ),
    "pg_db_role_setting": f"setdatabase {OI}, setrole {OI}, setconfig VARCHAR[]",
    "pg_largeobject_metadata": f"oid {OI}, lomowner {OI}, lomacl VARCHAR[]",
    "pg_available_extensions": (
        "name VARCHAR, default_version VARCHAR, installed_version VARCHAR, comment VARCHAR"
    ),
    "pg_enum": f"oid {OI}, enumtypid {OI}, enumsortorder FLOAT, enumlabel VARCHAR",
    "pg_trigger": f"oid {OI}, tgrelid {OI}, tgname VARCHAR, tgenabled {C}, tgisinternal BOOLEAN",
    "pg_opclass": (
        f"oid {OI}, opcmethod {OI}, opcname VARCHAR, opcnamespace {OI}, opcowner {OI}, "
        f"opcfamily {OI}, opcintype {OI}, opcdefault BOOLEAN, opckeytype {OI}"
    ),
    "pg_partitioned_table": f"partrelid {OI}, partstrat {C}, partnatts SMALLINT",
    # sqlvec's lookup tables behind the macros (format_type, to_regtype, pg_get_indexdef...).
    "sqlvec_type_names": (
        "sqlvec_type_oid UINTEGER, sqlvec_typname VARCHAR, sqlvec_display VARCHAR, "
        "sqlvec_typmod_type BOOLEAN"
    ),
    "sqlvec_type_aliases": "sqlvec_alias VARCHAR, sqlvec_alias_oid UINTEGER",
    "sqlvec_namespace_names": "sqlvec_ns_oid UINTEGER, sqlvec_nspname VARCHAR",
    "sqlvec_settings": "sqlvec_setting VARCHAR, sqlvec_value VARCHAR",
    "sqlvec_functions": (
        "sqlvec_fn_oid UINTEGER, sqlvec_fn_result VARCHAR, sqlvec_fn_arguments VARCHAR"
    ),
    "sqlvec_descriptions": (
        "sqlvec_desc_oid UINTEGER, sqlvec_desc_class UINTEGER, sqlvec_desc_text VARCHAR"
    ),
    "sqlvec_definitions": "sqlvec_def_oid UINTEGER, sqlvec_definition VARCHAR",
    "sqlvec_relation_names": "sqlvec_rel_oid UINTEGER, sqlvec_relname VARCHAR",
    "sqlvec_index_columns": (
        "sqlvec_index_oid UINTEGER, sqlvec_colno INTEGER, sqlvec_colname VARCHAR"
    ),
    information_schema.RELATION: information_schema.COLUMNS,
}
# Relations whose rows come from sqlvec's catalog: rebuilt after DDL.
DYNAMIC = (
    "pg_class",
    "pg_attribute",
    "pg_index",
    "pg_constraint",
    "pg_attrdef",
    "sqlvec_definitions",
    "sqlvec_relation_names",
    "sqlvec_index_columns",
    information_schema.RELATION,
)
# Catalog relations clients may name (pg_catalog.X or bare X).
CATALOG_RELATIONS = frozenset(name for name in RELATIONS if not name.startswith("sqlvec_"))

# The system catalogs' own pg_class rows (for 'pg_class'::regclass and friends).
_SYSTEM_RELATION_OIDS = {
    "pg_type": 1247,
    "pg_attribute": 1249,
    "pg_proc": 1255,
    "pg_class": 1259,
    "pg_database": 1262,
    "pg_namespace": 2615,
    "pg_constraint": 2606,
    "pg_index": 2610,
    "pg_am": 2601,
    "pg_description": 2609,
    "pg_attrdef": 2604,
    "pg_inherits": 2611,
    "pg_collation": 3456,
    "pg_extension": 3079,
    "pg_language": 2612,
    "pg_opclass": 2616,
    "pg_operator": 2617,
    "pg_opfamily": 2753,
    "pg_rewrite": 2618,
    "pg_trigger": 2620,
}

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
            rows = _dynamic_rows(self._specs())
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
        ams += [(oid, name, f"{name}handler", "i") for name, oid in _INDEX_AMS.items()]
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
                _opclass_oid(am, metric),
                am,
                name,
                types.PUBLIC_NAMESPACE,
                OWNER_OID,
                0,
                16385,
                # pgvector: ivfflat's vector_l2_ops is the default, hnsw has none, so
                # SQLAlchemy reflects the operator class (postgresql_ops) as PostgreSQL does.
                am == _INDEX_AMS["ivfflat"] and metric == "l2",
                0,
            )
            for am in _INDEX_AMS.values()
            for metric, name in _METRIC_OPCLASS.items()
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
        (oid, _SYSTEM_RELATION_OIDS["pg_extension"], objects.EXTENSION_COMMENTS[name])
        for name, (oid, _) in extensions.items()
    ]
    language = _SYSTEM_RELATION_OIDS["pg_language"]
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
        objects.FLOAT8_OID,
        operator.commutator,
        0,
        operator.function,
        "-",
        "-",
    )


def _opclass_oid(am: int, metric: str) -> int:
    """One vector operator class per index access method and metric."""
    return (
        16420
        + (am - _INDEX_AMS["hnsw"]) * len(_METRIC_OPCLASS)
        + list(_METRIC_OPCLASS).index(metric if metric in _METRIC_OPCLASS else "l2")
    )


def system_relation_oid(name: str) -> int:
    """A catalog relation's own OID (its rows' `tableoid`); 0 for those sqlvec keeps none of."""
    return _SYSTEM_RELATION_OIDS.get(name, 0)


def relation_oid(name: str) -> int:
    """A collection's pg_class OID: stable across restarts (clients cache OIDs), from its name.

    Its indexes take the next few OIDs (pkey +1, the vector index of column n +1+n)."""
    return 100_000 + (zlib.crc32(name.encode()) % 30_000_000) * 64


def _dynamic_rows(collections: Sequence[Any]) -> dict[str, list[tuple[Any, ...]]]:
    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in DYNAMIC}
    for name, oid in _SYSTEM_RELATION_OIDS.items():
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
        am = _INDEX_AMS.get(index.type, _INDEX_AMS["faiss"])
        options = [f"{k}={v}" for k, v in index.params.items()]
        rows["pg_class"].append(_class_row(index_oid, index.name, ns, "i", am, 1, options))
        opclass = _opclass_oid(am, index.metric)
        rows["pg_index"].append(_index_row(index_oid, oid, number, False, opclass))
        params = ", ".join(options)
        definition = (
            f"CREATE INDEX {_quote(index.name)} ON {table} USING {index.type} "
            f"({_quote(column_name)} {_METRIC_OPCLASS.get(index.metric, 'vector_l2_ops')})"
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


def _quote(name: str) -> str:
    if name.isidentifier() and name == name.lower():
        return name
    return '"' + name.replace('"', '""') + '"'
