"""The rows of the emulated pg_type: PostgreSQL's built-in OIDs plus pgvector's types.

Built-in types keep the OIDs every PostgreSQL server gives them (clients hard-code many);
pgvector's types live in namespace `public`, as they do after `CREATE EXTENSION vector`, with
OIDs sqlvec fixes (sqlvec.types.VECTOR_OID). Only identity and the columns clients read are
modelled here: no SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlvec.types import (
    BIT,
    HALFVEC_ARRAY_OID,
    HALFVEC_OID,
    SPARSEVEC_ARRAY_OID,
    SPARSEVEC_OID,
    VARBIT,
    VARCHAR,
    VECTOR_ARRAY_OID,
    VECTOR_OID,
)

BPCHAR_OID = 1042

PG_CATALOG_NAMESPACE = 11
PUBLIC_NAMESPACE = 2200
INFORMATION_SCHEMA_NAMESPACE = 13_000
PG_TOAST_NAMESPACE = 99
DEFAULT_COLLATION = 100
C_COLLATION = 950
# pgvector types take a typmod (the dimension count) that format_type() prints, as bit(n) and
# varbit(n) do with their length, and varchar(n) and char(n) with theirs (typmod n + 4).
TYPMOD_TYPES = frozenset(
    {VECTOR_OID, HALFVEC_OID, SPARSEVEC_OID, BIT.oid, VARBIT.oid, BPCHAR_OID, VARCHAR.oid}
)


@dataclass(frozen=True)
class TypeRow:
    oid: int
    typname: str
    typlen: int
    category: str  # typcategory
    array_oid: int  # typarray
    display: str  # format_type() / ::regtype::text
    namespace: int = PG_CATALOG_NAMESPACE
    typtype: str = "b"
    elem: int = 0  # typelem
    collation: int = 0  # typcollation
    io: str = ""  # prefix of typinput/typoutput/typreceive/typsend ("" -> typname)

    @property
    def byval(self) -> bool:
        return self.typlen in (1, 2, 4, 8) and self.typname != "name"

    @property
    def align(self) -> str:
        return {1: "c", 2: "s", 8: "d"}.get(self.typlen, "i")

    @property
    def storage(self) -> str:
        return "x" if self.typlen == -1 else "p"


# (oid, typname, typlen, typcategory, array oid, display name[, collation])
_BUILTINS: tuple[tuple[int, str, int, str, int, str, int], ...] = (
    (16, "bool", 1, "B", 1000, "boolean", 0),
    (17, "bytea", -1, "U", 1001, "bytea", 0),
    (18, "char", 1, "Z", 1002, '"char"', 0),
    (19, "name", 64, "S", 1003, "name", C_COLLATION),
    (20, "int8", 8, "N", 1016, "bigint", 0),
    (21, "int2", 2, "N", 1005, "smallint", 0),
    (23, "int4", 4, "N", 1007, "integer", 0),
    (24, "regproc", 4, "N", 1008, "regproc", 0),
    (25, "text", -1, "S", 1009, "text", DEFAULT_COLLATION),
    (26, "oid", 4, "N", 1028, "oid", 0),
    (114, "json", -1, "U", 199, "json", 0),
    (700, "float4", 4, "N", 1021, "real", 0),
    (701, "float8", 8, "N", 1022, "double precision", 0),
    (1042, "bpchar", -1, "S", 1014, "character", DEFAULT_COLLATION),
    (1043, "varchar", -1, "S", 1015, "character varying", DEFAULT_COLLATION),
    (1082, "date", 4, "D", 1182, "date", 0),
    (1083, "time", 8, "D", 1183, "time without time zone", 0),
    (1114, "timestamp", 8, "D", 1115, "timestamp without time zone", 0),
    (1184, "timestamptz", 8, "D", 1185, "timestamp with time zone", 0),
    (1186, "interval", 16, "T", 1187, "interval", 0),
    (1560, "bit", -1, "V", 1561, "bit", 0),
    (1562, "varbit", -1, "V", 1563, "bit varying", 0),
    (1700, "numeric", -1, "N", 1231, "numeric", 0),
    (2205, "regclass", 4, "N", 2210, "regclass", 0),
    (2206, "regtype", 4, "N", 2211, "regtype", 0),
    (2950, "uuid", 16, "U", 2951, "uuid", 0),
    (3802, "jsonb", -1, "U", 3807, "jsonb", 0),
    (4089, "regnamespace", 4, "N", 4090, "regnamespace", 0),
)


def _rows() -> tuple[TypeRow, ...]:
    rows: list[TypeRow] = []
    for oid, name, length, category, array_oid, display, collation in _BUILTINS:
        rows.append(TypeRow(oid, name, length, category, array_oid, display, collation=collation))
        rows.append(
            TypeRow(
                array_oid,
                f"_{name}",
                -1,
                "A",
                0,
                f"{display}[]",
                elem=oid,
                io="array",
                collation=collation,
            )
        )
    # Vector-like built-ins with their own element layout (indkey, indclass).
    rows.append(TypeRow(22, "int2vector", -1, "A", 1006, "int2vector", elem=21))
    rows.append(TypeRow(30, "oidvector", -1, "A", 1013, "oidvector", elem=26))
    rows.append(TypeRow(705, "unknown", -2, "X", 0, "unknown", typtype="p"))
    rows.append(TypeRow(2249, "record", -1, "P", 2287, "record", typtype="p"))
    rows.append(TypeRow(2287, "_record", -1, "P", 0, "record[]", typtype="p", elem=2249))
    rows.append(TypeRow(2278, "void", 4, "P", 0, "void", typtype="p"))
    for oid, array_oid, name in (
        (VECTOR_OID, VECTOR_ARRAY_OID, "vector"),
        (HALFVEC_OID, HALFVEC_ARRAY_OID, "halfvec"),
        (SPARSEVEC_OID, SPARSEVEC_ARRAY_OID, "sparsevec"),
    ):
        rows.append(TypeRow(oid, name, -1, "U", array_oid, name, namespace=PUBLIC_NAMESPACE))
        rows.append(
            TypeRow(
                array_oid,
                f"_{name}",
                -1,
                "A",
                0,
                f"{name}[]",
                namespace=PUBLIC_NAMESPACE,
                elem=oid,
                io="array",
            )
        )
    return tuple(rows)


TYPES: tuple[TypeRow, ...] = _rows()
BY_OID: dict[int, TypeRow] = {row.oid: row for row in TYPES}

# Spellings to_regtype() and ::regtype accept besides typname and the display name.
_ALIASES = {
    "int": 23,
    "int4": 23,
    "integer": 23,
    "smallint": 21,
    "bigint": 20,
    "real": 700,
    "float": 701,
    "double precision": 701,
    "boolean": 16,
    "character varying": 1043,
    "char": 1042,
    '"char"': 18,
    "character": 1042,
    "decimal": 1700,
    "timestamp": 1114,
    "timestamptz": 1184,
}


def type_aliases() -> list[tuple[str, int]]:
    """(spelling, oid) pairs for to_regtype(): names, display names, qualified names, arrays."""
    aliases: dict[str, int] = {}
    for row in TYPES:
        schema = "public" if row.namespace == PUBLIC_NAMESPACE else "pg_catalog"
        for name in (row.typname, row.display):
            aliases.setdefault(name, row.oid)
            aliases.setdefault(f"{schema}.{name}", row.oid)
        if row.array_oid:
            aliases.setdefault(f"{row.typname}[]", row.array_oid)
    for alias, oid in _ALIASES.items():
        aliases[alias] = oid
        if oid in BY_OID and BY_OID[oid].array_oid:
            aliases.setdefault(f"{alias}[]", BY_OID[oid].array_oid)
    return sorted(aliases.items())
