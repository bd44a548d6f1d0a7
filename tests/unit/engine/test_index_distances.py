"""An index search's distances are the exact search's: from the index's own scores where its
vectors are uncompressed, recomputed from the vectors where they are coded (IVF_SQ8, PQ)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sqlvec.engine.catalog import CollectionSpec, ColumnSpec
from sqlvec.engine.engine import Engine
from sqlvec.engine.index_types import define_index
from sqlvec.engine.segment_search import SearchRequest
from sqlvec.engine.vector_index import SearchSettings
from sqlvec.types import INT8, VECTOR

DIM, ROWS = 16, 3000


@pytest.mark.parametrize(
    ("kind", "metric", "params"),
    [
        ("hnsw", "l2", {"m": 16}),
        ("hnsw", "ip", {"m": 16}),
        ("ivf_flat", "l2", {"nlist": 16}),
        ("flat", "l2", {}),
        ("ivf_sq8", "l2", {"nlist": 16}),
        ("hnsw", "cosine", {"m": 16}),
    ],
)
def test_distances_of_the_index_path_are_the_exact_paths(
    tmp_path: Path, kind: str, metric: str, params: dict
) -> None:
    engine = Engine(tmp_path)
    columns = (
        ColumnSpec("id", INT8, primary_key=True, not_null=True),
        ColumnSpec("e", VECTOR, dim=DIM, not_null=True),
    )
    engine.create_collection(CollectionSpec("d", columns, metric))
    rng = np.random.default_rng(8)
    vectors = rng.standard_normal((ROWS, DIM)).astype(np.float32)
    engine.insert("d", ["id", "e"], [[i, v] for i, v in enumerate(vectors)])
    engine.create_index("d", define_index("d_idx", "e", DIM, kind, metric, params))
    settings = SearchSettings(ef_search=200, nprobe=16)
    exact_float64 = {
        "l2": lambda q, p: np.linalg.norm(vectors[p].astype(np.float64) - q, axis=1),
        "ip": lambda q, p: -(vectors[p].astype(np.float64) @ q),
        "cosine": lambda q, p: (
            1
            - (vectors[p].astype(np.float64) @ q)
            / (np.linalg.norm(vectors[p].astype(np.float64), axis=1) * np.linalg.norm(q))
        ),
    }[metric]
    for query in rng.standard_normal((20, DIM)).astype(np.float32):
        request = SearchRequest("e", query, 10, metric, settings=settings)
        indexed = engine.search("d", request)
        exact = engine.search("d", SearchRequest("e", query, 10, metric, exact=True))
        assert len(indexed.positions) == 10
        np.testing.assert_allclose(
            indexed.distances,
            exact_float64(query.astype(np.float64), indexed.positions),
            rtol=1e-5,
            atol=1e-5,
        )
        common = np.intersect1d(indexed.positions, exact.positions)
        by_index = dict(zip(indexed.positions.tolist(), indexed.distances.tolist(), strict=True))
        by_exact = dict(zip(exact.positions.tolist(), exact.distances.tolist(), strict=True))
        for position in common.tolist():  # the same row: the same distance either way
            assert by_index[position] == pytest.approx(by_exact[position], rel=1e-6, abs=1e-6)
        assert list(indexed.distances) == sorted(indexed.distances)
    engine.close()
