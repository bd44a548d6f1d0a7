"""Benchmark scenarios. `python -m benchmarks.run [scenario] [--rows N --dim D --queries Q]`."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # the same Faiss threading as the server

import numpy as np
import psycopg

from sqlvec.engine.faiss_setup import faiss
from sqlvec.testing import ServerProcess

INSERT_BATCH = 500


def vector_text(vector: np.ndarray) -> str:
    """pgvector's text form, built fast on the client (float32 values print exactly)."""
    return "[" + ",".join(map(repr, vector.tolist())) + "]"


def seeded(rows: int, dim: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((rows, dim)).astype(np.float32)


def load(conn: psycopg.Connection, data: np.ndarray) -> float:
    """Create `bench` and insert every row with multi-row parameterised INSERTs; seconds taken."""
    dim = data.shape[1]
    conn.execute("DROP TABLE IF EXISTS bench")
    conn.execute(f"CREATE TABLE bench (id BIGINT PRIMARY KEY, embedding vector({dim}))")
    started = time.perf_counter()
    for start in range(0, len(data), INSERT_BATCH):
        block = data[start : start + INSERT_BATCH]
        values = ", ".join("(%s, %s)" for _ in block)
        params: list[object] = []
        for offset, vector in enumerate(block):
            params += [start + offset, vector_text(vector)]
        conn.execute(f"INSERT INTO bench (id, embedding) VALUES {values}", params)
    return time.perf_counter() - started


def timed(
    run_one: Callable[[np.ndarray], list[int]], queries: np.ndarray
) -> tuple[dict[str, float], list[list[int]]]:
    latencies, answers = [], []
    for query in queries[:10]:  # warm-up
        run_one(query)
    started = time.perf_counter()
    for query in queries:
        t0 = time.perf_counter()
        answers.append(run_one(query))
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    ms = np.array(latencies) * 1000
    stats = {
        "qps": round(len(queries) / elapsed, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
    }
    return stats, answers


def knn_exact_prepared(args: argparse.Namespace) -> list[dict[str, object]]:
    data = seeded(args.rows, args.dim, seed=1)
    queries = seeded(args.queries, args.dim, seed=2)
    k = 10
    index = faiss.IndexFlatL2(args.dim)
    index.add(data)

    def faiss_one(query: np.ndarray) -> list[int]:
        return index.search(query.reshape(1, -1), k)[1][0].tolist()

    base = {"scenario": "knn_exact_prepared", "rows": args.rows, "dim": args.dim, "k": k}
    faiss_stats, exact = timed(faiss_one, queries)
    results = [{**base, "system": "faiss_in_process_flat", **faiss_stats}]

    with tempfile.TemporaryDirectory() as scratch:
        server = ServerProcess(Path(scratch) / "data").start()
        try:
            with psycopg.connect(server.dsn, autocommit=True) as conn:
                load_seconds = load(conn, data)
                sql = "SELECT id FROM bench ORDER BY embedding <-> %s LIMIT 10"

                def sqlvec_one(query: np.ndarray) -> list[int]:
                    rows = conn.execute(sql, (vector_text(query),), prepare=True).fetchall()
                    return [row[0] for row in rows]

                stats, answers = timed(sqlvec_one, queries)
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


SCENARIOS: dict[str, Callable[[argparse.Namespace], list[dict[str, object]]]] = {
    "knn_exact_prepared": knn_exact_prepared,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scenario", nargs="*", choices=[*SCENARIOS, []], default=list(SCENARIOS))
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args(argv)
    for name in args.scenario or SCENARIOS:
        for line in SCENARIOS[name](args):
            print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
