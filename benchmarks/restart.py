"""`restart_hnsw`: how soon a restarted server answers its first kNN query over an HNSW index.

The data directory is built in-process with the engine (insert in batches, then a synchronous
HNSW build), closed, and then served by a fresh server process, several times. Each restart is
timed from process start until the first kNN query over psycopg returns, and checked: the index
must be loaded from its file (stats say `sealed`/`hnsw` at once, the log never says
"rebuilding"), not rebuilt.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from benchmarks.common import KNN_SQL, STATS_SQL, K, Row, mib, rss_bytes, seeded, vector_text
from sqlvec.engine.catalog import CollectionSpec, ColumnSpec
from sqlvec.engine.engine import Engine
from sqlvec.engine.faiss_setup import faiss
from sqlvec.engine.index_types import define_index
from sqlvec.testing import ServerProcess
from sqlvec.types import INT8, VECTOR

ENGINE_BATCH = 50_000
SEGMENT_ROWS = 1_000_000
HNSW_PARAMS = {"m": 16, "ef_construction": 40}
GOAL_S = 5.0
START_TIMEOUT_S = 600.0
BUILD_FILE = "build.json"


def restart_hnsw(args: argparse.Namespace) -> list[Row]:
    rows, dim = args.restart_rows, args.dim
    base: Row = {"scenario": "restart_hnsw", "rows": rows, "dim": dim, "hnsw": HNSW_PARAMS}
    with workspace(args.restart_dir) as root:
        build = prepared(root, rows, dim)
        lines: list[Row] = [{**base, "system": "engine_in_process_build", **build}]
        query = seeded(1, dim, seed=2)[0]
        exact = exact_top_k(seeded(rows, dim, seed=1), query)
        for attempt in range(1, args.restarts + 1):
            lines.append({**base, "system": "sqlvec_server_restart", "restart": attempt})
            lines[-1].update(measure_restart(root, attempt, query, exact))
        lines.append({**base, "system": "sqlvec_server_restart_summary", **summary(lines[1:])})
    return lines


@contextmanager
def workspace(keep: str | None) -> Iterator[Path]:
    """The given directory (kept, so a later run reuses its data) or a temporary one."""
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        yield Path(keep)
        return
    with tempfile.TemporaryDirectory() as scratch:
        yield Path(scratch)


def prepared(root: Path, rows: int, dim: int) -> Row:
    """The data directory under root/data: reused when an earlier run built the same one."""
    record = root / BUILD_FILE
    if record.exists():
        built = json.loads(record.read_text())
        if built["rows"] == rows and built["dim"] == dim and built["hnsw"] == HNSW_PARAMS:
            return {**built["build"], "reused": True}
        raise RuntimeError(f"{root} holds another data directory ({built}); use another one")
    build = build_data_dir(root / "data", seeded(rows, dim, seed=1))
    record.write_text(json.dumps({"rows": rows, "dim": dim, "hnsw": HNSW_PARAMS, "build": build}))
    return {**build, "reused": False}


def build_data_dir(data_dir: Path, data: np.ndarray) -> Row:
    """Insert every row through Engine.insert, then CREATE INDEX ... USING hnsw, and close."""
    rows, dim = data.shape
    started = time.perf_counter()
    engine = Engine(data_dir)
    engine.create_collection(collection_spec(dim))
    for start in range(0, rows, ENGINE_BATCH):
        block = data[start : start + ENGINE_BATCH]
        engine.insert("bench", ["id", "embedding"], [[start + i, v] for i, v in enumerate(block)])
    inserted = time.perf_counter()
    threads = os.cpu_count() or 1
    faiss.omp_set_num_threads(threads)  # a one-off setup step: use every core
    try:
        definition = define_index("bench_idx", "embedding", dim, "hnsw", "l2", HNSW_PARAMS)
        engine.create_index("bench", definition)
    finally:
        faiss.omp_set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    indexed = time.perf_counter()
    engine.close()
    closed = time.perf_counter()
    return {
        "insert_s": round(inserted - started, 1),
        "insert_rows_per_s": round(rows / (inserted - started)),
        "index_build_s": round(indexed - inserted, 1),
        "index_build_threads": threads,
        "close_s": round(closed - indexed, 1),
        "total_s": round(closed - started, 1),
        "data_dir_mib": mib(directory_size(data_dir)),
    }


def collection_spec(dim: int) -> CollectionSpec:
    columns = (
        ColumnSpec("id", INT8, primary_key=True, not_null=True),
        ColumnSpec("embedding", VECTOR, dim=dim, not_null=True),
    )
    return CollectionSpec("bench", columns, "l2", {"segment_rows": SEGMENT_ROWS})


def directory_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def exact_top_k(data: np.ndarray, query: np.ndarray) -> list[int]:
    distances = ((data - query) ** 2).sum(axis=1)
    return np.argsort(distances)[:K].tolist()


def measure_restart(root: Path, attempt: int, query: np.ndarray, exact: list[int]) -> Row:
    """Start a server on the data directory; time until the first kNN answer; check the index."""
    log_path = root / f"restart-{attempt}.log"
    log_path.unlink(missing_ok=True)
    server = ServerProcess(root / "data", log_path=log_path)
    started = time.perf_counter()
    server.start(timeout=START_TIMEOUT_S)
    listening = time.perf_counter() - started
    try:
        conn, answer = first_answer(server.dsn, query, started + START_TIMEOUT_S)
        first_query = time.perf_counter() - started
        with conn:
            segments = conn.execute(STATS_SQL).fetchall()
        assert server.process is not None
        rss = rss_bytes(server.process.pid)
    finally:
        server.stop()
    rebuilding = "rebuilding" in server.log()
    sealed = [s for s in segments if s[2] != "growing"]
    return {
        "listening_s": round(listening, 3),
        "first_query_s": round(first_query, 3),
        "goal": f"under {GOAL_S:g} s",
        "under_goal": first_query < GOAL_S,
        "index_loaded": index_loaded(segments) and not rebuilding,
        "rebuilding_in_log": rebuilding,
        "segments": [{"state": s[2], "index_type": s[5], "rows": s[3]} for s in sealed],
        "first_query_recall_at_10": len(set(answer) & set(exact)) / K,
        "server_rss_mib": mib(rss),
    }


def first_answer(
    dsn: str, query: np.ndarray, deadline: float
) -> tuple[psycopg.Connection, list[int]]:
    """Connect until the server accepts, then run one kNN query; the open connection and ids."""
    while True:
        try:
            conn = psycopg.connect(dsn, autocommit=True)
            rows = conn.execute(KNN_SQL, (vector_text(query),)).fetchall()
            return conn, [row[0] for row in rows]
        except psycopg.OperationalError:
            if time.perf_counter() > deadline:
                raise
            time.sleep(0.01)


def index_loaded(segments: list[tuple[Any, ...]]) -> bool:
    """Every row is in a sealed segment whose HNSW index is ready."""
    sealed = [s for s in segments if s[2] != "growing"]
    growing_rows = sum(int(s[3]) for s in segments if s[2] == "growing")
    ready = all(s[2] == "sealed" and s[5] == "hnsw" for s in sealed)
    return bool(sealed) and ready and growing_rows == 0


def summary(restarts: list[Row]) -> Row:
    times = [float(str(line["first_query_s"])) for line in restarts]
    median = statistics.median(times)
    return {
        "restarts": len(times),
        "first_query_s_min": min(times),
        "first_query_s_median": round(median, 3),
        "first_query_s_max": max(times),
        "goal": f"under {GOAL_S:g} s",
        "under_goal": median < GOAL_S,
        "index_loaded_every_time": all(line["index_loaded"] for line in restarts),
    }
