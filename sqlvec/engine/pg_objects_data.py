"""The rows of the emulated pg_proc, pg_operator, pg_language and pg_settings: what sqlvec
really answers to, described as PostgreSQL with pgvector would (`\\df`, `\\do`, `\\dconfig`).

pg_proc lists pgvector's SQL-callable functions that sqlvec runs (`l2_distance`, `vector_dims`,
`avg(vector)`...), in namespace `public` as after `CREATE EXTENSION vector`; pg_operator lists
the distance operators. No SQL here: sqlvec.engine.pg_catalog inserts the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlvec.settings import INTEGER_RANGES, MILLISECOND_RANGES, READ_ONLY
from sqlvec.types import BIT, VECTOR_OID

FLOAT8_OID = 701
INT4_OID = 23

LANGUAGE_INTERNAL = 12
LANGUAGE_C = 13
LANGUAGE_SQL = 14
LANGUAGE_PLPGSQL = 13_250
# (oid, lanname, lanispl, lanpltrusted, lanplcallfoid)
LANGUAGES = [
    (LANGUAGE_INTERNAL, "internal", False, False, 0),
    (LANGUAGE_C, "c", False, False, 0),
    (LANGUAGE_SQL, "sql", False, True, 0),
    (LANGUAGE_PLPGSQL, "plpgsql", True, True, 13_247),
]


@dataclass(frozen=True)
class FunctionRow:
    oid: int
    name: str
    arguments: tuple[int, ...]  # proargtypes
    result: int  # prorettype
    kind: str = "f"  # prokind: 'a' for an aggregate

    @property
    def source(self) -> str:
        return "aggregate_dummy" if self.kind == "a" else self.name


_V, _B = VECTOR_OID, BIT.oid
FUNCTIONS = [
    FunctionRow(16_500, "l2_distance", (_V, _V), FLOAT8_OID),
    FunctionRow(16_501, "inner_product", (_V, _V), FLOAT8_OID),
    FunctionRow(16_502, "cosine_distance", (_V, _V), FLOAT8_OID),
    FunctionRow(16_503, "l1_distance", (_V, _V), FLOAT8_OID),
    FunctionRow(16_504, "hamming_distance", (_B, _B), FLOAT8_OID),
    FunctionRow(16_505, "jaccard_distance", (_B, _B), FLOAT8_OID),
    FunctionRow(16_506, "vector_dims", (_V,), INT4_OID),
    FunctionRow(16_507, "vector_norm", (_V,), FLOAT8_OID),
    FunctionRow(16_508, "l2_normalize", (_V,), _V),
    FunctionRow(16_509, "avg", (_V,), _V, "a"),
    FunctionRow(16_510, "sum", (_V,), _V, "a"),
    FunctionRow(16_511, "subvector", (_V, INT4_OID, INT4_OID), _V),
    FunctionRow(16_512, "binary_quantize", (_V,), _B),
]


@dataclass(frozen=True)
class OperatorRow:
    oid: int
    name: str
    left: int
    right: int
    function: str  # oprcode: the function behind it
    commutator: int = 0
    result: int = FLOAT8_OID  # oprresult


# pgvector's distance operators; `<#>` is the negative inner product.
OPERATORS = [
    OperatorRow(16_520, "<->", _V, _V, "l2_distance", 16_520),
    OperatorRow(16_521, "<#>", _V, _V, "vector_negative_inner_product", 16_521),
    OperatorRow(16_522, "<=>", _V, _V, "cosine_distance", 16_522),
    OperatorRow(16_523, "<+>", _V, _V, "l1_distance", 16_523),
    OperatorRow(16_524, "<~>", _B, _B, "hamming_distance", 16_524),
    OperatorRow(16_525, "<%>", _B, _B, "jaccard_distance", 16_525),
    # Element-wise arithmetic and concatenation (pgvector 0.7+).
    OperatorRow(16_526, "+", _V, _V, "vector_add", 16_526, _V),
    OperatorRow(16_527, "-", _V, _V, "vector_sub", 0, _V),
    OperatorRow(16_528, "*", _V, _V, "vector_mul", 16_528, _V),
    OperatorRow(16_529, "||", _V, _V, "vector_concat", 0, _V),
]

# Installed extensions: name -> (OID, version).
EXTENSIONS = {"plpgsql": (16_410, "1.0"), "vector": (16_411, "0.8.0")}
# Comments on extensions and languages (`\\dx`), as PostgreSQL and pgvector 0.8 give them.
EXTENSION_COMMENTS = {
    "plpgsql": "PL/pgSQL procedural language",
    "vector": "vector data type and ivfflat and hnsw access methods",
}
PLPGSQL_COMMENT = "PL/pgSQL procedural language"

_VECTOR_SETTINGS = frozenset({"nprobe", "ef_search", "search_length", "explain_recall"})


def setting_row(name: str, value: str) -> tuple[object, ...]:
    """A pg_settings row (PostgreSQL 15's 17 columns) for one of sqlvec's settings."""
    low, high = _bounds(name)
    return (
        name,
        value,
        "ms" if name in MILLISECOND_RANGES else None,
        "Vector Search" if name in _VECTOR_SETTINGS else "Client Connection Defaults",
        name,
        None,
        "internal" if name in READ_ONLY else "user",
        _vartype(name, value),
        "default",
        low,
        high,
        None,
        value,
        value,
        None,
        None,
        False,
    )


def _bounds(name: str) -> tuple[str | None, str | None]:
    ranges = {**INTEGER_RANGES, **MILLISECOND_RANGES}
    if name not in ranges:
        return None, None
    low, high = ranges[name]
    return str(low), str(high)


def _vartype(name: str, value: str) -> str:
    if name in INTEGER_RANGES or name in MILLISECOND_RANGES:
        return "integer"
    return "bool" if value in ("on", "off") else "string"
