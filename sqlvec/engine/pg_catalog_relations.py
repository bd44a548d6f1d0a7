"""The emulated PostgreSQL catalog's layout: its relations' columns and its fixed OIDs.

PgCatalog (sqlvec.engine.pg_catalog) creates these relations in the attached database `sqlvec_pg`.
Column types follow PostgreSQL's: oid columns are UINTEGER (reported as oid), "char" columns
use the enum type `pgchar` (reported as "char"), name columns are VARCHAR (reported as text).
"""

from __future__ import annotations

from sqlvec.engine import information_schema

SCHEMA = "sqlvec_pg"  # the attached database's name; its tables sit in its `main` schema
PREFIX = f"{SCHEMA}.main"
CHAR_TYPE = f"{PREFIX}.pgchar"
OWNER_OID = 10  # the one role, as PostgreSQL's bootstrap superuser
HEAP_AM = 2
BTREE_AM = 403
# Index access methods beside btree: pgvector's names and sqlvec's own index types.
INDEX_AMS = {
    "hnsw": 16400,
    "ivfflat": 16401,
    "flat": 16402,
    "ivf_flat": 16403,
    "ivf_sq8": 16404,
    "ivf_pq": 16405,
    "nsg": 16406,
    "faiss": 16407,
}
METRIC_OPCLASS = {"l2": "vector_l2_ops", "ip": "vector_ip_ops", "cosine": "vector_cosine_ops"}

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
SYSTEM_RELATION_OIDS = {
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
