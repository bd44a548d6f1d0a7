"""`index_types`: every index type over the wire (build, recall@10, QPS, size), beside raw Faiss.

The rows are loaded once; each case then replaces the collection's index with CREATE INDEX
(synchronous), is searched at two settings with a prepared statement, and is rebuilt and
searched in-process with Faiss on the same data.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psycopg

from benchmarks import faiss_baseline
from benchmarks.common import (
    STATS_SQL,
    K,
    Row,
    insert_rows,
    mib,
    recall_at,
    rss_bytes,
    seeded,
    timed,
    wire_search,
)
from sqlvec.engine.faiss_setup import faiss
from sqlvec.engine.index_types import IndexDef, define_index
from sqlvec.engine.segment_search import REFINE_FACTOR
from sqlvec.testing import ServerProcess

LOAD_BATCH = 1000
SEGMENT_ROWS = 1_000_000


@dataclass(frozen=True)
class IndexCase:
    """One CREATE INDEX and the search settings it is measured at."""

    label: str
    method: str
    params: dict[str, int] = field(default_factory=dict)
    setting: str | None = None  # the session setting that trades recall for speed
    values: tuple[int, ...] = ()

    def settings(self) -> list[int | None]:
        return list(self.values) or [None]


CASES = (
    IndexCase("flat", "flat"),
    IndexCase("ivf_flat", "ivf_flat", {"nlist": 1024}, "nprobe", (8, 32)),
    IndexCase("ivf_sq8", "ivf_sq8", {"nlist": 1024}, "nprobe", (8, 32)),
    IndexCase("ivf_pq", "ivf_pq", {"nlist": 1024, "m": 16}, "nprobe", (8, 32)),
    IndexCase("hnsw", "hnsw", {"m": 16, "ef_construction": 64}, "ef_search", (40, 128)),
    IndexCase("hnsw_efc128", "hnsw", {"m": 16, "ef_construction": 128}, "ef_search", (40, 128)),
    IndexCase("nsg", "nsg", {}, "search_length", (40, 100)),
)


@dataclass
class Bench:
    """The data, its exact answers and the server connection the cases share."""

    data: np.ndarray
    queries: np.ndarray
    exact: np.ndarray
    conn: psycopg.Connection
    pid: int

    def base(self, case: IndexCase, definition: IndexDef) -> Row:
        return {
            "scenario": "index_types",
            "rows": len(self.data),
            "dim": self.data.shape[1],
            "queries": len(self.queries),
            "k": K,
            "index": case.label,
            "index_type": definition.type,
            "index_params": definition.params,
            "factory": definition.factory(self.data.shape[1]),
        }


def index_types(args: argparse.Namespace) -> list[Row]:
    data = seeded(args.rows, args.dim, seed=1)
    queries = seeded(args.queries, args.dim, seed=2)
    exact = exact_answers(data, queries)
    results: list[Row] = []
    with tempfile.TemporaryDirectory() as scratch:
        server = ServerProcess(Path(scratch) / "data").start()
        try:
            with psycopg.connect(server.dsn, autocommit=True) as conn:
                assert server.process is not None
                bench = Bench(data, queries, exact, conn, server.process.pid)
                results.append(load_line(bench))
                for case in CASES:
                    results += measure_case(bench, case)
        finally:
            server.stop()
    return results


def exact_answers(data: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Ground truth: the exact top k of every query (faiss.IndexFlatL2, in-process)."""
    index = faiss.IndexFlatL2(data.shape[1])
    index.add(data)
    return index.search(queries, K)[1]


def load_line(bench: Bench) -> Row:
    """Create the collection and load every row once over the wire."""
    rows, dim = bench.data.shape
    bench.conn.execute(
        f"CREATE COLLECTION bench (id BIGINT PRIMARY KEY, embedding VECTOR({dim})) "
        f"WITH (metric = 'l2', segment_rows = {SEGMENT_ROWS})"
    )
    seconds = insert_rows(bench.conn, bench.data, LOAD_BATCH)
    return {
        "scenario": "index_types",
        "system": "sqlvec_wire_load",
        "rows": rows,
        "dim": dim,
        "batch_rows": LOAD_BATCH,
        "load_s": round(seconds, 2),
        "load_rows_per_s": round(rows / seconds),
        "server_rss_mib": mib(rss_bytes(bench.pid)),
    }


def measure_case(bench: Bench, case: IndexCase) -> list[Row]:
    dim = bench.data.shape[1]
    definition = define_index("bench_idx", "embedding", dim, case.method, "l2", dict(case.params))
    base = bench.base(case, definition)
    lines = server_lines(bench, case, definition, base)
    lines += faiss_lines(bench, case, definition, base)
    return lines


def server_lines(bench: Bench, case: IndexCase, definition: IndexDef, base: Row) -> list[Row]:
    """CREATE INDEX (timed, with the server's RSS around it), then each search setting."""
    conn, rows = bench.conn, len(bench.data)
    conn.execute("DROP INDEX IF EXISTS ON bench")
    rss_before = rss_bytes(bench.pid)
    started = time.perf_counter()
    conn.execute(create_index_sql(case))
    build_seconds = time.perf_counter() - started
    rss_after = rss_bytes(bench.pid)
    segments = conn.execute(STATS_SQL).fetchall()
    sealed = [s for s in segments if s[2] == "sealed"]
    disk = sum(int(s[6]) for s in sealed)
    common: Row = {
        **base,
        "system": "sqlvec_wire_prepared",
        "build_s": round(build_seconds, 2),
        "disk_bytes_per_vector": round(disk / rows, 1),
        "rss_before_mib": mib(rss_before),
        "rss_after_mib": mib(rss_after),
        "rss_delta_bytes_per_vector": round((rss_after - rss_before) / rows, 1),
        "segments_indexed": [s[5] for s in sealed],
        "refine_factor": REFINE_FACTOR.get(definition.type, 1),
    }
    lines = []
    for value in case.settings():
        if case.setting is not None:
            conn.execute(f"SET {case.setting} = {value}")
        stats, answers = timed(wire_search(conn), bench.queries)
        lines.append(with_search(common, case, value, stats, recall_at(answers, bench.exact)))
    if case.setting is not None:
        conn.execute(f"RESET {case.setting}")
    return lines


def faiss_lines(bench: Bench, case: IndexCase, definition: IndexDef, base: Row) -> list[Row]:
    """The same index built and searched in-process, plain and with the server's re-ranking."""
    index, build_seconds = faiss_baseline.build(definition, bench.data)
    common: Row = {
        **base,
        "system": "faiss_in_process",
        "build_s": round(build_seconds, 2),
        "serialized_bytes_per_vector": round(
            faiss_baseline.serialized_size(index) / len(bench.data), 1
        ),
    }
    factor = REFINE_FACTOR.get(definition.type, 1)
    lines = []
    for value in case.settings():
        search = faiss_baseline.searcher(index, case.setting, value, K)
        stats, answers = timed(search, bench.queries)
        lines.append(with_search(common, case, value, stats, recall_at(answers, bench.exact)))
        if factor > 1:
            wide = faiss_baseline.searcher(index, case.setting, value, K * factor)
            stats, answers = timed(faiss_baseline.refined(wide, bench.data, K), bench.queries)
            refined = {**common, "system": "faiss_in_process_refine", "refine_factor": factor}
            lines.append(with_search(refined, case, value, stats, recall_at(answers, bench.exact)))
    return lines


def create_index_sql(case: IndexCase) -> str:
    sql = f"CREATE INDEX bench_idx ON bench USING {case.method} (embedding)"
    if case.params:
        sql += " WITH (" + ", ".join(f"{k} = {v}" for k, v in case.params.items()) + ")"
    return sql


def with_search(
    common: Row, case: IndexCase, value: int | None, stats: dict[str, float], recall: float
) -> Row:
    search = {} if case.setting is None else {case.setting: value}
    return {**common, "search_params": search, "recall_at_10": recall, **stats}
