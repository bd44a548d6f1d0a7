"""`hnsw_layout`: one HNSW graph searched as Faiss lays it out (insertion order) and as sqlvec
stores it (breadth first from the entry point, `sqlvec.engine.graph_order`).

vs_pgvector's data (100k rows around 100 clusters, in random order), m 16, ef_construction 64,
ef_search 40: the same index cloned, so both layouts hold the same graph and give the same
answers (recall is reported for both to show it). Measured in-process, no server: one query
at a time on one thread, and a batch of 1000 queries on every core (the LATERAL statement's
Faiss call), each the best of three rounds, the two layouts alternating.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks import faiss_baseline
from benchmarks.common import K, Row, recall_at, timed
from benchmarks.vs_pgvector import HNSW, clustered
from sqlvec.engine.faiss_setup import BATCH_THREADS, batch_threads, faiss
from sqlvec.engine.graph_order import lay_out_breadth_first
from sqlvec.engine.index_types import define_index

SCENARIO = "hnsw_layout"
EF_SEARCH = 40
BATCH = 1000
ROUNDS = 3


def hnsw_layout(args: argparse.Namespace) -> list[Row]:
    rows = clustered(args.rows, args.dim, seed=1)
    queries = clustered(max(BATCH, args.queries), args.dim, seed=2)
    exact = faiss.knn(queries, rows, K)[1]
    definition = define_index("bench_idx", "embedding", args.dim, "hnsw", "l2", dict(HNSW))
    insertion, build_seconds = faiss_baseline.build(definition, rows, layout=False)
    started = time.perf_counter()
    breadth_first = faiss.clone_index(insertion)
    lay_out_breadth_first(breadth_first)
    layout_seconds = time.perf_counter() - started
    layouts = {"insertion": insertion, "breadth_first": breadth_first}
    single: dict[str, tuple[dict[str, float], list[list[int]]]] = {}
    batch: dict[str, float] = {}
    for _ in range(ROUNDS):  # alternating, so that a slow phase of the machine hits both
        for name, index in layouts.items():
            found = _single(index, queries[: args.queries])
            if name not in single or found[0]["p50_ms"] < single[name][0]["p50_ms"]:
                single[name] = found
            batch[name] = min(batch.get(name, float("inf")), _batch(index, queries[:BATCH]))
    base = {"scenario": SCENARIO, "rows": args.rows, "dim": args.dim, "ef_search": EF_SEARCH}
    lines: list[Row] = []
    for name in layouts:
        stats, answers = single[name]
        lines.append(
            {
                **base,
                "layout": name,
                "measure": "knn",
                "queries": args.queries,
                "recall_at_10": recall_at(answers, exact[: args.queries]),
                **stats,
            }
        )
        lines.append(
            {**base, "layout": name, "measure": f"batch_{BATCH}", "threads": BATCH_THREADS}
            | {"batch_s_best": round(batch[name], 4)}
        )
    lines.append(
        {
            **base,
            "measure": "summary",
            "index_build_s": round(build_seconds, 2),
            "layout_s": round(layout_seconds, 2),
            "knn_p50_ratio": round(
                single["insertion"][0]["p50_ms"] / single["breadth_first"][0]["p50_ms"], 3
            ),
            "batch_ratio": round(batch["insertion"] / batch["breadth_first"], 3),
        }
    )
    return lines


def _parameters() -> faiss.SearchParametersHNSW:
    params = faiss.SearchParametersHNSW()
    params.efSearch = EF_SEARCH
    return params


def _single(index: faiss.Index, queries: np.ndarray) -> tuple[dict[str, float], list[list[int]]]:
    params = _parameters()

    def one(query: np.ndarray) -> list[int]:
        return index.search(query.reshape(1, -1), K, params=params)[1][0].tolist()

    return timed(one, queries)


def _batch(index: faiss.Index, queries: np.ndarray) -> float:
    params = _parameters()
    with batch_threads(len(queries)):
        started = time.perf_counter()
        index.search(queries, K, params=params)
        return time.perf_counter() - started
