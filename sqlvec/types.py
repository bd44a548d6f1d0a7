"""Postgres type identity shared by every layer.

The wire layer picks codecs by OID, the planner types result columns with these, and the engine
maps them to DuckDB column types. Only identity lives here: no encoding, no SQL.

Python value conventions (what codecs accept and produce, what the engine returns):
bool -> bool; int2/int4/int8/oid -> int; float4/float8 -> float; text/varchar/name/unknown -> str;
vector, halfvec -> 1-D numpy float32 array (halfvec's components are float16 values);
bit, varbit -> str of '0' and '1'; sparsevec -> sqlvec.sparse.SparseValue; NULL -> None.
Arrays (`int8[]`, `vector[]`, ...) -> a list of element values in those conventions, None for
NULL elements, nested lists for multi-dimensional arrays (so vector[] -> list of float32 numpy
arrays); an empty array -> []. Lower bounds are not kept: every array is 1-based.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PgType:
    oid: int
    name: str  # pg_type.typname
    typlen: int  # pg_type.typlen: fixed size in bytes, -1 for variable length
    array_oid: int = 0
    duckdb: str = "VARCHAR"  # the DuckDB type that stores values of this type
    element_oid: int = 0  # pg_type.typelem of an array type; 0 for scalars


BOOL = PgType(16, "bool", 1, 1000, "BOOLEAN")
INT2 = PgType(21, "int2", 2, 1005, "SMALLINT")
INT4 = PgType(23, "int4", 4, 1007, "INTEGER")
INT8 = PgType(20, "int8", 8, 1016, "BIGINT")
OID = PgType(26, "oid", 4, 1028, "UINTEGER")
FLOAT4 = PgType(700, "float4", 4, 1021, "FLOAT")
FLOAT8 = PgType(701, "float8", 8, 1022, "DOUBLE")
TEXT = PgType(25, "text", -1, 1009, "VARCHAR")
VARCHAR = PgType(1043, "varchar", -1, 1015, "VARCHAR")
NAME = PgType(19, "name", 64, 1003, "VARCHAR")
UNKNOWN = PgType(705, "unknown", -2, 0, "VARCHAR")
CHAR = PgType(18, "char", 1, 1002, "VARCHAR")  # "char": pg_catalog's one-byte codes (relkind)
# json_build_object's result (SQLAlchemy's get_columns); a result type only, travelling as text.
JSON = PgType(114, "json", -1, 199, "JSON")
# pg_index.indkey / indclass: arrays whose text form is space-separated ("1 3").
INT2VECTOR = PgType(22, "int2vector", -1, 1006, "USMALLINT[]", element_oid=21)
OIDVECTOR = PgType(30, "oidvector", -1, 1013, "UBIGINT[]", element_oid=26)
# pgvector's type lives in an extension, so its OID is ours to choose; it is stable across
# restarts because clients cache it (asyncpg, psycopg's TypeInfo).
VECTOR_OID = 16385
VECTOR_ARRAY_OID = 16386
VECTOR = PgType(VECTOR_OID, "vector", -1, VECTOR_ARRAY_OID, "FLOAT[]")
HALFVEC_OID = 16387
HALFVEC_ARRAY_OID = 16388
SPARSEVEC_OID = 16389
SPARSEVEC_ARRAY_OID = 16390
# DuckDB has no float16, and a type alias does not survive into result types: halfvec is stored
# as DOUBLE[d], a type no other column uses, so a scalar query's result column is still known as
# halfvec(d) (see engine/duckdb_types.py).
HALFVEC = PgType(HALFVEC_OID, "halfvec", -1, HALFVEC_ARRAY_OID, "DOUBLE[]")
# sparsevec as a struct whose first field name marks it (1-based positions are pgvector's text
# form only: indices here are 0-based, as in its binary form).
SPARSEVEC_DUCKDB = 'STRUCT(sparsevec_dim INTEGER, indices INTEGER[], "values" FLOAT[])'
SPARSEVEC = PgType(SPARSEVEC_OID, "sparsevec", -1, SPARSEVEC_ARRAY_OID, SPARSEVEC_DUCKDB)
# Postgres' built-in bit strings, which pgvector's binary vectors are; DuckDB has a BIT type.
BIT = PgType(1560, "bit", -1, 1561, "BIT")
VARBIT = PgType(1562, "varbit", -1, 1563, "BIT")

# Array types: Bind parameters and result columns (`WHERE id = ANY($1)`, batches of vectors).
BOOL_ARRAY = PgType(BOOL.array_oid, "_bool", -1, duckdb="BOOLEAN[]", element_oid=BOOL.oid)
INT2_ARRAY = PgType(INT2.array_oid, "_int2", -1, duckdb="SMALLINT[]", element_oid=INT2.oid)
INT4_ARRAY = PgType(INT4.array_oid, "_int4", -1, duckdb="INTEGER[]", element_oid=INT4.oid)
INT8_ARRAY = PgType(INT8.array_oid, "_int8", -1, duckdb="BIGINT[]", element_oid=INT8.oid)
FLOAT4_ARRAY = PgType(FLOAT4.array_oid, "_float4", -1, duckdb="FLOAT[]", element_oid=FLOAT4.oid)
FLOAT8_ARRAY = PgType(FLOAT8.array_oid, "_float8", -1, duckdb="DOUBLE[]", element_oid=FLOAT8.oid)
TEXT_ARRAY = PgType(TEXT.array_oid, "_text", -1, duckdb="VARCHAR[]", element_oid=TEXT.oid)
VARCHAR_ARRAY = PgType(
    VARCHAR.array_oid, "_varchar", -1, duckdb="VARCHAR[]", element_oid=VARCHAR.oid
)
OID_ARRAY = PgType(OID.array_oid, "_oid", -1, duckdb="UINTEGER[]", element_oid=OID.oid)
VECTOR_ARRAY = PgType(VECTOR_ARRAY_OID, "_vector", -1, duckdb="FLOAT[][]", element_oid=VECTOR_OID)
HALFVEC_ARRAY = PgType(
    HALFVEC_ARRAY_OID, "_halfvec", -1, duckdb="DOUBLE[][]", element_oid=HALFVEC_OID
)
SPARSEVEC_ARRAY = PgType(
    SPARSEVEC_ARRAY_OID, "_sparsevec", -1, duckdb=f"{SPARSEVEC_DUCKDB}[]", element_oid=SPARSEVEC_OID
)
BIT_ARRAY = PgType(BIT.array_oid, "_bit", -1, duckdb="BIT[]", element_oid=BIT.oid)
VARBIT_ARRAY = PgType(VARBIT.array_oid, "_varbit", -1, duckdb="BIT[]", element_oid=VARBIT.oid)

ARRAY_TYPES: tuple[PgType, ...] = (
    BOOL_ARRAY,
    INT2_ARRAY,
    INT4_ARRAY,
    INT8_ARRAY,
    FLOAT4_ARRAY,
    FLOAT8_ARRAY,
    TEXT_ARRAY,
    VARCHAR_ARRAY,
    OID_ARRAY,
    VECTOR_ARRAY,
    HALFVEC_ARRAY,
    SPARSEVEC_ARRAY,
    BIT_ARRAY,
    VARBIT_ARRAY,
)

ALL_TYPES: tuple[PgType, ...] = (
    BOOL,
    INT2,
    INT4,
    INT8,
    OID,
    FLOAT4,
    FLOAT8,
    TEXT,
    VARCHAR,
    NAME,
    UNKNOWN,
    CHAR,
    VECTOR,
    HALFVEC,
    SPARSEVEC,
    BIT,
    VARBIT,
    *ARRAY_TYPES,
)
BY_OID: dict[int, PgType] = {t.oid: t for t in ALL_TYPES}

# SQL spellings of the scalar types a collection column may be declared with.
BY_SQL_NAME: dict[str, PgType] = {
    "bool": BOOL,
    "boolean": BOOL,
    "smallint": INT2,
    "int2": INT2,
    "int": INT4,
    "integer": INT4,
    "int4": INT4,
    "bigint": INT8,
    "int8": INT8,
    "real": FLOAT4,
    "float4": FLOAT4,
    "float": FLOAT8,
    "double": FLOAT8,
    "double precision": FLOAT8,
    "float8": FLOAT8,
    "text": TEXT,
    "varchar": VARCHAR,
    "character varying": VARCHAR,
    "vector": VECTOR,
    "halfvec": HALFVEC,
    "sparsevec": SPARSEVEC,
    "bit": BIT,
    "varbit": VARBIT,
    "bit varying": VARBIT,
}
# Types a collection column holds as an (n, d) float32 matrix in memory and searches by distance.
VECTOR_COLUMN_TYPES = frozenset({VECTOR_OID, HALFVEC_OID, SPARSEVEC_OID, BIT.oid})
# Types whose values sqlvec parses and checks itself (sqlvec.vector_kinds).
VECTOR_VALUE_TYPES = VECTOR_COLUMN_TYPES | {VARBIT.oid}

INTEGER_TYPES = frozenset({INT2.oid, INT4.oid, INT8.oid, OID.oid})
FLOAT_TYPES = frozenset({FLOAT4.oid, FLOAT8.oid})


def type_by_oid(oid: int) -> PgType:
    """The type for an OID; unknown OIDs are treated as text, as Postgres does for `unknown`."""
    return BY_OID.get(oid, TEXT)
