"""`copy_binary`: loading vectors with binary COPY over the wire, in rows per second.

psycopg sends `COPY bench (id, embedding) FROM STDIN WITH (FORMAT BINARY)` two ways:

- `psycopg_copy_raw_buffer`: one prebuilt binary COPY stream (header, rows, trailer) written
  with `copy.write()`; the client does no per-row work, so this is the server's rate.
- `psycopg_copy_write_row`: `copy.write_row((id, vector_bytes))` per row, with the vectors
  pre-encoded in pgvector's binary form and `set_types(["int8", "bytea"])`; psycopg's per-row
  Python work is part of the time.

Each is timed from the COPY statement until its `COPY n` is back (the rows are then stored in
DuckDB and in memory), several times, each into a fresh table, after one warm-up COPY (a fresh
server process pays for faulting in its memory the first time). Beside them:

- `psycopg_copy_raw_buffer_not_stored`: the same stream, then CopyFail instead of CopyDone, so
  the server receives and parses every row but stores none: the wire and the parser alone
  (the last chunk's parse, at most 4 MiB, may still be running when the error comes back).
- `engine_in_process_bulk_insert`: the same arrays inserted in-process with
  `Engine.insert_columns`: the storage layer alone (DuckDB's insert, the in-memory copy),
  the ceiling for COPY.
"""

from __future__ import annotations

import argparse
import statistics
import struct
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psycopg

from benchmarks.common import Row, seeded
from sqlvec.engine.catalog import CollectionSpec, ColumnSpec
from sqlvec.engine.engine import Engine
from sqlvec.testing import ServerProcess
from sqlvec.types import INT8, VECTOR

GOAL_ROWS_PER_S = 125_000
REPEATS = 3
COPY_SQL = "COPY bench (id, embedding) FROM STDIN WITH (FORMAT BINARY)"
SIGNATURE = b"PGCOPY\n\xff\r\n\x00"


def copy_binary(args: argparse.Namespace) -> list[Row]:
    rows, dim = args.copy_rows, args.copy_dim
    data = seeded(rows, dim, seed=1)
    started = time.perf_counter()
    stream = binary_copy_stream(data)
    build_s = time.perf_counter() - started
    header = struct.pack("!hh", dim, 0)
    started = time.perf_counter()
    encoded = [header + vector.astype(">f4").tobytes() for vector in data]
    encode_s = time.perf_counter() - started
    base: Row = {
        "scenario": "copy_binary",
        "rows": rows,
        "dim": dim,
        "goal_rows_per_s": GOAL_ROWS_PER_S,
    }
    lines: list[Row] = []
    with tempfile.TemporaryDirectory() as scratch:
        server = ServerProcess(Path(scratch) / "data").start()
        try:
            with psycopg.connect(server.dsn, autocommit=True) as conn:
                warm_up = timed_copy(conn, dim, lambda copy: copy.write(stream))
                modes: dict[str, tuple[Callable[[psycopg.Copy], None], Row]] = {
                    "psycopg_copy_raw_buffer": (
                        lambda copy: copy.write(stream),
                        {"client_build_s": round(build_s, 3)},
                    ),
                    "psycopg_copy_write_row": (
                        lambda copy: write_rows(copy, encoded),
                        {"client_encode_s": round(encode_s, 3)},
                    ),
                }
                not_stored = [timed_copy_fail(conn, dim, stream) for _ in range(REPEATS)]
                lines.append(
                    {
                        **base,
                        "system": "psycopg_copy_raw_buffer_not_stored",
                        **rates(rows, not_stored),
                    }
                )
                for system, (send, extra) in modes.items():
                    runs = [timed_copy(conn, dim, send) for _ in range(REPEATS)]
                    lines.append(
                        {
                            **base,
                            "system": system,
                            **rates(rows, runs),
                            "warm_up_rows_per_s": round(rows / warm_up),
                            "matches": round_trips(conn, data),
                            **extra,
                        }
                    )
        finally:
            server.stop()
        runs = [engine_insert(Path(scratch) / f"engine{i}", data) for i in range(REPEATS)]
        lines.append({**base, "system": "engine_in_process_bulk_insert", **rates(rows, runs)})
    return lines


def binary_copy_stream(data: np.ndarray) -> bytes:
    """The whole binary COPY stream for (id int8, embedding vector(d)), built with numpy."""
    count, dim = data.shape
    layout = np.dtype(
        [
            ("fields", ">i2"),
            ("id_length", ">i4"),
            ("id", ">i8"),
            ("vector_length", ">i4"),
            ("dim", ">i2"),
            ("unused", ">i2"),
            ("values", ">f4", (dim,)),
        ]
    )
    rows = np.zeros(count, dtype=layout)
    rows["fields"], rows["id_length"], rows["id"] = 2, 8, np.arange(count)
    rows["vector_length"], rows["dim"], rows["values"] = 4 + 4 * dim, dim, data
    return SIGNATURE + struct.pack("!ii", 0, 0) + rows.tobytes() + struct.pack("!h", -1)


def write_rows(copy: psycopg.Copy, encoded: list[bytes]) -> None:
    copy.set_types(["int8", "bytea"])
    for row_id, vector in enumerate(encoded):
        copy.write_row((row_id, vector))


def timed_copy(conn: psycopg.Connection, dim: int, send: Callable[[psycopg.Copy], None]) -> float:
    """Seconds for one COPY into a fresh table, from the statement to its `COPY n`."""
    conn.execute("DROP TABLE IF EXISTS bench")
    conn.execute(f"CREATE TABLE bench (id BIGINT PRIMARY KEY, embedding vector({dim}))")
    started = time.perf_counter()
    with conn.cursor().copy(COPY_SQL) as copy:
        send(copy)
    return time.perf_counter() - started


class _Abandon(Exception):
    pass


def timed_copy_fail(conn: psycopg.Connection, dim: int, stream: bytes) -> float:
    """Seconds to send the whole stream and have the server refuse CopyFail."""
    conn.execute("DROP TABLE IF EXISTS bench")
    conn.execute(f"CREATE TABLE bench (id BIGINT PRIMARY KEY, embedding vector({dim}))")
    started = time.perf_counter()
    try:
        with conn.cursor().copy(COPY_SQL) as copy:
            copy.write(stream)
            raise _Abandon
    except _Abandon:
        pass
    return time.perf_counter() - started


def round_trips(conn: psycopg.Connection, data: np.ndarray) -> bool:
    """The loaded table holds every row, and sampled vectors come back bit for bit."""
    total = conn.execute("SELECT count(*) FROM bench").fetchone()
    if total is None or total[0] != len(data):
        return False
    sample = sorted({0, len(data) // 2, len(data) - 1})
    ids = ", ".join(map(str, sample))
    with conn.cursor().copy(
        f"COPY (SELECT id, embedding FROM bench WHERE id IN ({ids}) ORDER BY id) "
        "TO STDOUT WITH (FORMAT BINARY)"
    ) as copy:
        copy.set_types(["int8", "bytea"])
        got = list(copy.rows())
    return [row[0] for row in got] == sample and all(
        np.array_equal(np.frombuffer(row[1], ">f4", offset=4), data[row[0]]) for row in got
    )


def engine_insert(directory: Path, data: np.ndarray) -> float:
    """Seconds for inserting the same arrays through the engine, in-process."""
    count, dim = data.shape
    engine = Engine(directory)
    try:
        columns = (
            ColumnSpec("id", INT8, primary_key=True, not_null=True),
            ColumnSpec("embedding", VECTOR, dim=dim, not_null=True),
        )
        engine.create_collection(CollectionSpec("bench", columns))
        started = time.perf_counter()
        engine.insert_columns("bench", {"id": np.arange(count), "embedding": data}, count)
        return time.perf_counter() - started
    finally:
        engine.close()


def rates(rows: int, runs: list[float]) -> Row:
    per_s = sorted(rows / seconds for seconds in runs)
    median = statistics.median(per_s)
    return {
        "rows_per_s": round(median),
        "rows_per_s_min": round(per_s[0]),
        "rows_per_s_max": round(per_s[-1]),
        "seconds": [round(s, 3) for s in runs],
        "meets_goal": median >= GOAL_ROWS_PER_S,
    }
