"""Vector index types: Milvus' and pgvector's names, their parameters, and Faiss builds.

A definition is validated when CREATE INDEX is planned, against Milvus' documented ranges
(pgvector's for HNSW), so a bad parameter fails with 22023 and the allowed range, never later in
a background build.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlvec.engine.faiss_setup import faiss
from sqlvec.errors import FeatureNotSupported, InvalidParameterValue, UndefinedObject

NSG_MIN_ROWS = 128
PQ_M_VALUES = (96, 64, 56, 48, 40, 32, 28, 24, 20, 16, 12, 8, 4, 3, 2, 1)
KMEANS_SEED = 1234  # fixed: the same rows always train the same centroids

# Canonical type names; aliases are other spellings users bring from pgvector and Milvus.
TYPES = ("flat", "ivf_flat", "ivf_sq8", "ivf_pq", "hnsw", "nsg", "faiss")
ALIASES = {"ivfflat": "ivf_flat", "sq8h": "ivf_sq8", "ivf_sq8h": "ivf_sq8"}
UNSUPPORTED = {"annoy": "ANNOY has no Faiss implementation; use hnsw or nsg instead"}
# (name, low, high, default) per parameter; None default means required.
PARAMETERS: dict[str, dict[str, tuple[int, int, int | None]]] = {
    "flat": {},
    "ivf_flat": {"nlist": (1, 999999, 128)},
    "ivf_sq8": {"nlist": (1, 999999, 128)},
    "ivf_pq": {"nlist": (1, 999999, 128), "m": (1, 96, None), "nbits": (1, 16, 8)},
    "hnsw": {"m": (2, 100, 16), "ef_construction": (4, 1000, 64)},
    "nsg": {
        "out_degree": (5, 300, 40),
        "candidate_pool_size": (50, 1000, 300),
        "search_length": (10, 300, 40),
        "knng": (5, 300, 50),
    },
    "faiss": {},
}
# Other spellings of parameter names: pgvector's `lists`, Milvus' camel case.
PARAMETER_ALIASES = {
    "lists": "nlist",
    "efconstruction": "ef_construction",
    "ef_construct": "ef_construction",
    "pq_m": "m",
}
L1_TYPES = ("flat", "hnsw")
# Faiss' binary indexes (bit columns, Hamming distance): IndexBinaryFlat, IVF and HNSW.
BINARY_TYPES = ("flat", "ivf_flat", "hnsw")
# pgvector's operator classes: the column type they accept and the distance they serve.
OPCLASS_METRICS = {
    f"{type_name}_{metric}_ops": metric
    for type_name in ("vector", "halfvec", "sparsevec")
    for metric in ("l2", "ip", "cosine", "l1")
} | {"bit_hamming_ops": "hamming", "bit_jaccard_ops": "jaccard"}


def opclass_type(opclass: str) -> str:
    """The column type an operator class accepts: `halfvec_l2_ops` -> `halfvec`."""
    return opclass.split("_", 1)[0]


@dataclass(frozen=True)
class IndexDef:
    """A vector index on one column: its type, parameters and the distance it serves."""

    name: str
    column: str
    type: str
    metric: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def binary(self) -> bool:
        """A Faiss binary index over a bit column's packed bits."""
        return self.metric == "hamming"

    def factory(self, dim: int) -> str:
        p = self.params
        if self.binary:
            return {"flat": "BFlat", "ivf_flat": f"BIVF{p.get('nlist')}"}.get(
                self.type, f"BHNSW{p.get('m')}"
            )
        if self.type == "flat":
            return "Flat"
        if self.type == "ivf_flat":
            return f"IVF{p['nlist']},Flat"
        if self.type == "ivf_sq8":
            return f"IVF{p['nlist']},SQ8"
        if self.type == "ivf_pq":
            return f"IVF{p['nlist']},PQ{p['m']}x{p['nbits']}"
        if self.type == "hnsw":
            return f"HNSW{p['m']},Flat"
        if self.type == "nsg":
            return f"NSG{p['out_degree']},Flat"
        return str(p["factory"])

    def min_training_rows(self) -> int:
        """Rows a segment needs before this index can be trained; fewer stay exact."""
        if self.type in ("ivf_flat", "ivf_sq8"):
            return int(self.params["nlist"])
        if self.type == "ivf_pq":
            return max(int(self.params["nlist"]), 2 ** int(self.params["nbits"]))
        if self.type == "nsg":
            # Faiss' NN-descent asserts (and aborts the process) on fewer than about twice
            # knng rows, and NSG needs more than its 100 evaluation points: keep a margin.
            return max(NSG_MIN_ROWS, 3 * int(self.params["knng"]))
        if self.type == "faiss":
            return int(self.params.get("min_rows", 1))
        return 1

    @property
    def faiss_metric(self) -> int:
        # Cosine indexes hold unit vectors and rank by inner product.
        if self.metric in ("ip", "cosine"):
            return int(faiss.METRIC_INNER_PRODUCT)
        if self.metric == "l1":
            return int(faiss.METRIC_L1)
        return int(faiss.METRIC_L2)

    @property
    def nlist(self) -> int | None:
        value = self.params.get("nlist")
        return int(value) if value is not None else None


def canonical_type(method: str | None) -> str:
    name = (method or "flat").lower()
    if name in UNSUPPORTED:
        raise FeatureNotSupported(f"index type {name} is not supported: {UNSUPPORTED[name]}")
    name = ALIASES.get(name, name)
    if name not in TYPES:
        raise UndefinedObject(
            f'access method "{name}" does not exist',
            hint="Index types: " + ", ".join(TYPES) + " (and pgvector's ivfflat).",
        )
    return name


def define_index(
    name: str,
    column: str,
    dim: int,
    method: str | None,
    metric: str,
    raw: dict[str, Any],
    column_type: str = "vector",
) -> IndexDef:
    """Validate a CREATE INDEX and fill in defaults.

    bit columns get a Faiss binary index (Hamming); sparsevec columns are accepted with any
    method and searched exactly (a flat index over the dense rows).
    """
    kind = canonical_type(method)
    if column_type == "bit":
        return _binary_index(name, column, dim, kind, metric, raw)
    if column_type == "sparsevec":
        _checked_params(kind, raw, dim)
        return IndexDef(name, column, "flat", metric)
    if metric == "l1" and kind not in L1_TYPES:
        raise FeatureNotSupported(
            f"index type {kind} does not support L1 distance (vector_l1_ops)",
            hint="Use hnsw or flat for <+>.",
        )
    params = _checked_params(kind, raw, dim)
    definition = IndexDef(name, column, kind, metric, params)
    if kind == "faiss":
        _check_factory(definition, dim)
    return definition


def _binary_index(
    name: str, column: str, dim: int, kind: str, metric: str, raw: dict[str, Any]
) -> IndexDef:
    if metric != "hamming":
        raise FeatureNotSupported(
            "bit_jaccard_ops indexes are not supported: Faiss' binary indexes rank by Hamming "
            "distance",
            hint="Use bit_hamming_ops; searches with <%> are always exact.",
        )
    if kind not in BINARY_TYPES:
        raise FeatureNotSupported(
            f"index type {kind} does not support bit columns",
            hint="Use " + ", ".join(BINARY_TYPES) + " (Faiss binary indexes).",
        )
    return IndexDef(name, column, kind, metric, _checked_params(kind, raw, dim))


def _checked_params(kind: str, raw: dict[str, Any], dim: int) -> dict[str, Any]:
    allowed = PARAMETERS[kind]
    params: dict[str, Any] = {}
    for key, value in raw.items():
        name = PARAMETER_ALIASES.get(key.lower(), key.lower())
        if kind == "faiss" and name in ("factory", "min_rows"):
            params[name] = value if name == "factory" else _integer(name, value, 1, 10**9)
            continue
        if name not in allowed:
            raise InvalidParameterValue(
                f'unrecognized parameter "{key}" for index type {kind}',
                hint=f"Parameters of {kind}: {', '.join(allowed) or 'none'}.",
            )
        low, high, _ = allowed[name]
        params[name] = _integer(name, value, low, high)
    for name, (_, _, default) in allowed.items():
        if name not in params:
            if default is None:
                raise InvalidParameterValue(f'parameter "{name}" is required for {kind}')
            params[name] = default
    if kind == "faiss" and "factory" not in params:
        raise InvalidParameterValue('parameter "factory" is required for index type faiss')
    _check_combinations(kind, params, dim)
    return params


def _check_combinations(kind: str, params: dict[str, Any], dim: int) -> None:
    if kind == "ivf_pq":
        m = params["m"]
        if m not in PQ_M_VALUES:
            raise InvalidParameterValue(
                f"m = {m} is not allowed for ivf_pq",
                hint="m must be one of " + ", ".join(map(str, PQ_M_VALUES)) + ".",
            )
        if dim % m:
            raise InvalidParameterValue(
                f"m = {m} does not divide the dimension {dim}",
                hint="IVF_PQ splits each vector into m sub-vectors of equal length.",
            )
    if kind == "hnsw" and params["ef_construction"] < 2 * params["m"]:
        raise InvalidParameterValue(
            "ef_construction must be greater than or equal to 2 * m",
            detail=f"m = {params['m']}, ef_construction = {params['ef_construction']}",
        )


def _integer(name: str, value: Any, low: int, high: int) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise InvalidParameterValue(
            f'invalid value for parameter "{name}": "{value}"',
            hint=f"Use an integer in [{low}, {high}].",
        ) from None
    if not low <= number <= high:
        raise InvalidParameterValue(
            f'value {number} out of bounds for parameter "{name}"',
            detail=f"Valid values are between {low} and {high}.",
        )
    return number


def _check_factory(definition: IndexDef, dim: int) -> None:
    try:
        faiss.index_factory(dim, definition.factory(dim), definition.faiss_metric)
    except RuntimeError as exc:
        message = str(exc).strip().splitlines()[-1] if str(exc).strip() else str(exc)
        raise InvalidParameterValue(
            f'invalid Faiss factory string "{definition.params["factory"]}": {message}'
        ) from None
