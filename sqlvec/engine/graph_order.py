"""HNSW graphs stored in breadth-first order, so that a search reads memory it has just read.

Faiss keeps a graph's nodes in insertion order: rows arrive in no useful order, so every hop
of a search lands on a vector and a neighbour list far from the last one. Renumbering the
nodes in the order a breadth-first walk of layer 0 meets them (from the entry point, where
every search starts) puts neighbours next to each other. The graph, and so every search's
path and answer, stays the same; only where things lie in memory changes. On 100k clustered
rows (m 16, ef_search 40), one query's p50 went 58 -> 52 us at 128-d and 86 -> 80 us at 384-d,
a batch of 1000 queries 27 -> 23 ms and 43 -> 38 ms; the renumbering takes ~0.25 s
(`python -m benchmarks.run hnsw_layout`, benchmarks/README.md).
"""

from __future__ import annotations

import numpy as np

from sqlvec.engine.faiss_setup import faiss


def lay_out_breadth_first(index: faiss.IndexIDMap2) -> None:
    """Renumber an id-mapped HNSW index's nodes breadth-first; the row ids stay the same."""
    graph = faiss.downcast_index(index.index)
    if graph.ntotal < 2:
        return
    order = breadth_first_order(graph.hnsw, graph.ntotal)
    graph.permute_entries(order)
    ids = faiss.vector_to_array(index.id_map)
    faiss.copy_array_to_vector(ids[order], index.id_map)
    index.construct_rev_map()


def breadth_first_order(hnsw: faiss.HNSW, count: int) -> np.ndarray:
    """Node numbers in the order a breadth-first walk of layer 0 from the entry point meets
    them (each level of the walk at once); nodes it never reaches come last, as they were."""
    neighbours = _layer0_neighbours(hnsw, count)
    seen = np.zeros(count, dtype=bool)
    order = np.empty(count, dtype=np.int64)
    frontier = np.array([hnsw.entry_point], dtype=np.int64)
    seen[frontier] = True
    filled = 0
    while frontier.size:
        order[filled : filled + frontier.size] = frontier
        filled += frontier.size
        met = neighbours[frontier].ravel()
        met = met[met >= 0]
        met = met[~seen[met]]
        # Keep each node where the walk first meets it: its parent's place, then the slot.
        _, first = np.unique(met, return_index=True)
        frontier = met[np.sort(first)]
        seen[frontier] = True
    order[filled:] = np.flatnonzero(~seen)
    return order


def _layer0_neighbours(hnsw: faiss.HNSW, count: int) -> np.ndarray:
    """(count, 2m) layer-0 neighbour numbers, -1 in empty slots: they come first in each
    node's slots (Faiss' cum_nb_neighbors(0) is 0)."""
    offsets = faiss.vector_to_array(hnsw.offsets)[:count].astype(np.int64)
    slots = faiss.vector_to_array(hnsw.neighbors)
    width = hnsw.nb_neighbors(0)
    return slots[offsets[:, None] + np.arange(width)].astype(np.int64)
