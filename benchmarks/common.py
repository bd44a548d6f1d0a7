"""What every scenario shares: seeded data, loading over the wire, timing, recall, memory."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # the same Faiss threading as the server

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
import psycopg

INSERT_BATCH = 500
K = 10
KNN_SQL = "SELECT id FROM bench ORDER BY embedding <-> %s LIMIT 10"
STATS_SQL = (
    "SELECT partition, segment, state, row_count, deleted_count, index_type, bytes_on_disk "
    "FROM sqlvec_collection_stats('bench')"
)

Row = dict[str, object]
Query = TypeVar("Query")


def vector_text(vector: np.ndarray) -> str:
    """pgvector's text form, built fast on the client (float32 values print exactly)."""
    return "[" + ",".join(map(repr, vector.tolist())) + "]"


def seeded(rows: int, dim: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((rows, dim)).astype(np.float32)


def insert_rows(conn: psycopg.Connection, data: np.ndarray, batch: int = INSERT_BATCH) -> float:
    """Insert every row into `bench` (ids 0..n-1) with multi-row parameterised INSERTs."""
    started = time.perf_counter()
    for start in range(0, len(data), batch):
        block = data[start : start + batch]
        values = ", ".join("(%s, %s)" for _ in block)
        params: list[object] = []
        for offset, vector in enumerate(block):
            params += [start + offset, vector_text(vector)]
        conn.execute(f"INSERT INTO bench (id, embedding) VALUES {values}", params)
    return time.perf_counter() - started


def load(conn: psycopg.Connection, data: np.ndarray) -> float:
    """Create `bench` and insert every row with multi-row parameterised INSERTs; seconds taken."""
    dim = data.shape[1]
    conn.execute("DROP TABLE IF EXISTS bench")
    conn.execute(f"CREATE TABLE bench (id BIGINT PRIMARY KEY, embedding vector({dim}))")
    return insert_rows(conn, data)


def timed(
    run_one: Callable[[Query], list[int]], queries: Sequence[Query] | np.ndarray
) -> tuple[dict[str, float], list[list[int]]]:
    """QPS, p50 and p99 of `run_one` over `queries` (10 untimed first), and its answers.
    Queries sent over the wire are passed in already formatted: the client's own formatting
    is no part of a server's round trip."""
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


def recall_at(answers: list[list[int]], exact: np.ndarray, k: int = K) -> float:
    """Mean share of the exact top k found in each answer's first k ids."""
    pairs = zip(answers, exact, strict=True)
    hits = [len(set(found[:k]) & set(truth[:k].tolist())) for found, truth in pairs]
    return round(float(np.mean(hits)) / k, 4)


def wire_search(conn: psycopg.Connection) -> Callable[[np.ndarray], list[int]]:
    """One prepared kNN query over the wire, as the server's ids."""

    def one(query: np.ndarray) -> list[int]:
        rows = conn.execute(KNN_SQL, (vector_text(query),), prepare=True).fetchall()
        return [row[0] for row in rows]

    return one


def rss_bytes(pid: int) -> int:
    """A process' resident set (VmRSS), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def mib(size: int) -> float:
    return round(size / 2**20, 1)
