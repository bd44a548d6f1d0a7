"""`knn_exact_prepared`: exact kNN over the wire with a prepared statement, beside raw Faiss."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import psycopg

from benchmarks.common import K, Row, load, seeded, timed, wire_search
from sqlvec.engine.faiss_setup import faiss
from sqlvec.testing import ServerProcess


def knn_exact_prepared(args: argparse.Namespace) -> list[Row]:
    data = seeded(args.rows, args.dim, seed=1)
    queries = seeded(args.queries, args.dim, seed=2)
    index = faiss.IndexFlatL2(args.dim)
    index.add(data)

    def faiss_one(query: np.ndarray) -> list[int]:
        return index.search(query.reshape(1, -1), K)[1][0].tolist()

    base = {"scenario": "knn_exact_prepared", "rows": args.rows, "dim": args.dim, "k": K}
    faiss_stats, exact = timed(faiss_one, queries)
    results: list[Row] = [{**base, "system": "faiss_in_process_flat", **faiss_stats}]

    with tempfile.TemporaryDirectory() as scratch:
        server = ServerProcess(Path(scratch) / "data").start()
        try:
            with psycopg.connect(server.dsn, autocommit=True) as conn:
                load_seconds = load(conn, data)
                stats, answers = timed(wire_search(conn), queries)
        finally:
            server.stop()
    results.append(
        {
            **base,
            "system": "sqlvec_wire_prepared",
            **stats,
            "load_rows_per_s": round(args.rows / load_seconds),
            "matches_exact": answers == exact,
            "ratio_vs_faiss_qps": round(stats["qps"] / faiss_stats["qps"], 3),
            "overhead_p50_ms": round(stats["p50_ms"] - faiss_stats["p50_ms"], 3),
        }
    )
    return results
