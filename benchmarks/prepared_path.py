"""`prepared_path`: the Python a prepared kNN runs around its Faiss call, without a socket.

A server answering over loopback TCP spends its time in three places: the kernel (the read,
the send that wakes the client), the Faiss call, and the Python around it (the Bind decoded,
the session's checks, the plan evaluated, the answer ranked and encoded). Over the wire the
first blurs the last; here the connection's one-step answer (`wire/pipelined.py`) is driven
from memory: each query's Bind, Describe, Execute and Sync are fed to the connection's stream
and its reply bytes are counted, not sent. This reaches into the connection
(`_Connection._answered_pipelined`) on purpose: it is the path a prepared query takes inside
the transport's read callback.

Measured per query (best of 3 rounds): the whole answer (`whole`), the same with each query's
Faiss answer memoised after its first search (`python_only`: what is left is the Python), and
the Faiss call alone with the same parameters (`faiss_call`, the baseline). vs_pgvector's
clustered rows, HNSW m 16 / ef_construction 64, `ef_search` 40.
"""

from __future__ import annotations

import argparse
import asyncio
import struct
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import Row, vector_text
from benchmarks.vs_pgvector import HNSW, clustered
from sqlvec.engine import vector_index
from sqlvec.engine.catalog import CollectionSpec, ColumnSpec
from sqlvec.engine.engine import Engine
from sqlvec.engine.index_types import define_index
from sqlvec.engine.vector_index import BuiltIndex, SearchSettings
from sqlvec.session import Session
from sqlvec.types import INT8, VECTOR
from sqlvec.wire.protocol import _Connection

SCENARIO = "prepared_path"
SQL = "SELECT id FROM docs ORDER BY embedding <-> $1 LIMIT 10"
EF_SEARCH = 40
ROUNDS = 3
WARM_UP = 300


def prepared_path(args: argparse.Namespace) -> list[Row]:
    base: Row = {"scenario": SCENARIO, "rows": args.rows, "dim": args.dim, "k": 10}
    queries = clustered(args.queries, args.dim, seed=2)
    texts = [vector_text(query).encode() for query in queries]
    with tempfile.TemporaryDirectory() as directory, _engine(Path(directory), args) as engine:
        whole = asyncio.run(_per_query(engine, texts))
        with _memoised_faiss():
            python_only = asyncio.run(_per_query(engine, texts))
        faiss_call = _faiss_call(engine, queries)
    return [
        {**base, "measure": "whole", "us_per_query": whole},
        {**base, "measure": "python_only", "us_per_query": python_only},
        {**base, "measure": "faiss_call", "us_per_query": faiss_call},
        {**base, "measure": "summary", "python_beyond_faiss_us": round(whole - faiss_call, 1)},
    ]


@contextmanager
def _engine(directory: Path, args: argparse.Namespace) -> Iterator[Engine]:
    engine = Engine(directory)
    try:
        columns = (
            ColumnSpec("id", INT8, primary_key=True, not_null=True),
            ColumnSpec("embedding", VECTOR, dim=args.dim, not_null=True),
        )
        spec = CollectionSpec("docs", columns, "l2", {"segment_rows": args.rows})
        engine.create_collection(spec)
        rows = clustered(args.rows, args.dim, seed=1)
        engine.insert_columns("docs", {"id": np.arange(args.rows), "embedding": rows}, args.rows)
        engine.create_index(
            "docs", define_index("docs_idx", "embedding", args.dim, "hnsw", "l2", HNSW)
        )
        yield engine
    finally:
        engine.close()


async def _per_query(engine: Engine, texts: list[bytes]) -> float:
    """µs per query of the connection's one-step answer, best of ROUNDS."""
    session = Session(engine, ThreadPoolExecutor(1), 1)
    session.startup({"user": "bench"})
    async for _ in session.simple_query(f"SET ef_search = {EF_SEARCH}"):
        pass
    await session.parse("s", SQL, [])
    reader = asyncio.StreamReader()
    connection = _Connection(reader, _Discard(), session, 1 << 28)  # type: ignore[arg-type]
    messages = [_execution(text) for text in texts]

    async def answer(count: int) -> None:
        frames = connection._frames
        for i in range(count):
            reader.feed_data(messages[i % len(messages)])
            frame = frames.buffered() or await frames.message()
            assert frame is not None and frame[0] == b"B"
            assert connection._answered_pipelined(frame[1]), "not answered in one step"
            connection._out.take()

    await answer(WARM_UP)
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        await answer(len(texts))
        best = min(best, (time.perf_counter() - started) / len(texts))
    return round(best * 1e6, 1)


def _execution(text: bytes) -> bytes:
    """Bind of statement `s` with one text parameter, Describe, Execute and Sync: what libpq
    (psycopg) sends for a prepared query, in one packet."""
    bind = b"\0s\0" + struct.pack("!hhi", 0, 1, len(text)) + text + struct.pack("!h", 0)
    return (
        _message(b"B", bind)
        + _message(b"D", b"P\0")
        + _message(b"E", b"\0" + struct.pack("!i", 0))
        + _message(b"S", b"")
    )


def _message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


class _Discard:
    """The connection's writer: replies are taken from its buffer, never written here."""

    def write(self, data: bytes) -> None:
        raise AssertionError("a one-step answer is left in the buffer for the caller")

    async def drain(self) -> None:
        return None


@contextmanager
def _memoised_faiss() -> Iterator[None]:
    """Each query's Faiss answer kept after its first search (keyed by the query's bytes)."""
    search: Callable[..., Any] = BuiltIndex.search_with
    answers: dict[bytes, Any] = {}

    def memoised(index: BuiltIndex, query: np.ndarray, k: int, params: Any) -> Any:
        key = query.tobytes()
        if key not in answers:
            answers[key] = search(index, query, k, params)
        return answers[key]

    vector_index.BuiltIndex.search_with = memoised  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        vector_index.BuiltIndex.search_with = search  # type: ignore[method-assign]


def _faiss_call(engine: Engine, queries: np.ndarray) -> float:
    """µs per query of the index's search alone, as the compiled search calls it."""
    (segment,) = engine.collection("docs").partitions["_default"].sealed
    index = segment.indexes["embedding"]
    params = index.plain_parameters(SearchSettings(ef_search=EF_SEARCH), 10)
    for query in queries[:WARM_UP]:
        index.search_with(query, 10, params)
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for query in queries:
            index.search_with(query, 10, params)
        best = min(best, (time.perf_counter() - started) / len(queries))
    return round(best * 1e6, 1)
