"""HNSW graphs are built as pgvector builds them: a node's layer-0 neighbour slots (2m) are
refilled from the candidates the diversity heuristic pruned (keepPrunedConnections), where
Faiss by default leaves them empty. Denser layer 0, higher recall at the same ef_search."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sqlvec.engine.faiss_setup import faiss
from sqlvec.engine.index_types import define_index
from sqlvec.engine.vector_index import SearchSettings, build

DIM, ROWS, M = 16, 3000, 8


def _layer0_degrees(index: faiss.Index) -> np.ndarray:
    graph = faiss.downcast_index(faiss.downcast_index(index).index).hnsw
    neighbours = faiss.vector_to_array(graph.neighbors)
    offsets = faiss.vector_to_array(graph.offsets).astype(np.int64)[:-1]
    slots = int(graph.nb_neighbors(0))
    assert slots == 2 * M
    return np.array([np.count_nonzero(neighbours[o : o + slots] >= 0) for o in offsets])


def _vectors() -> np.ndarray:
    return np.random.default_rng(5).standard_normal((ROWS, DIM)).astype(np.float32)


def test_layer0_keeps_pruned_connections() -> None:
    definition = define_index("i", "e", DIM, "hnsw", "l2", {"m": M, "ef_construction": 40})
    built = build(definition, _vectors(), np.arange(ROWS, dtype=np.int64))
    degrees = _layer0_degrees(built.index)
    # Faiss' own default fills about two thirds of the slots on this data (10.7 of 16).
    assert degrees.mean() > 0.95 * 2 * M


def test_the_denser_graph_finds_more_at_a_small_ef() -> None:
    vectors = _vectors()
    queries = np.random.default_rng(6).standard_normal((200, DIM)).astype(np.float32)
    exact = faiss.knn(queries, vectors, 10)[1]
    definition = define_index("i", "e", DIM, "hnsw", "l2", {"m": M, "ef_construction": 40})
    built = build(definition, vectors, np.arange(ROWS, dtype=np.int64))
    plain = faiss.IndexHNSWFlat(DIM, M)
    plain.hnsw.efConstruction = 40
    plain.add(vectors)

    def recall(search: Callable[[np.ndarray], np.ndarray]) -> float:
        found = [search(q) for q in queries]
        hits = [len(set(f.tolist()) & set(e.tolist())) for f, e in zip(found, exact, strict=True)]
        return float(np.mean(hits)) / 10

    parameters = faiss.SearchParametersHNSW()
    parameters.efSearch = 16
    ours = recall(lambda q: built.search(q, 10, SearchSettings(ef_search=16), None)[1])
    faiss_default = recall(lambda q: plain.search(q.reshape(1, -1), 10, params=parameters)[1][0])
    assert ours > faiss_default
