"""`transport_floor`: the round trip of a server that does no work, the floor under every query.

A child process answers psycopg's prepared `SELECT 1` from canned bytes (an asyncio protocol:
no parsing, no session, no engine). Its round trip is what the client, the kernel's loopback
TCP and the scheduler cost, with the two processes pinned to one CPU, to two CPUs, and left to
the scheduler. On a VM whose idle vCPUs halt (haltpoll polling off), waking the other vCPU
costs tens of microseconds each way: that is in every server's latency here, pgvector's too,
and in sqlvec's "kNN p50 - Faiss p50".

Run the server alone with `python -m benchmarks.transport_floor PORT`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import psycopg

from benchmarks.common import Row
from sqlvec.testing import free_port

SCENARIO = "transport_floor"
ROUND_TRIPS = 3000


def _message(type_byte: bytes, body: bytes = b"") -> bytes:
    return type_byte + struct.pack("!i", len(body) + 4) + body


_READY = _message(b"Z", b"I")
_ROW_DESCRIPTION = _message(
    b"T", struct.pack("!h", 1) + b"?column?\0" + struct.pack("!ihihih", 0, 0, 23, 4, -1, 0)
)
_STARTED = (
    _message(b"R", struct.pack("!i", 0))
    + _message(b"S", b"server_version\x0016.4\x00")
    + _message(b"S", b"client_encoding\x00UTF8\x00")
    + _message(b"S", b"standard_conforming_strings\x00on\x00")
    + _message(b"K", struct.pack("!ii", 1, 2))
    + _READY
)
_REPLIES = {
    b"P": _message(b"1"),
    b"B": _message(b"2"),
    b"E": _message(b"D", struct.pack("!hi", 1, 1) + b"1") + _message(b"C", b"SELECT 1\0"),
    b"S": _READY,
    b"H": b"",
    b"C": _message(b"3"),
}
_SSL_REQUEST = 80877103


class _CannedServer(asyncio.Protocol):
    """Replies to the extended protocol's messages with fixed bytes, whatever they ask."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._data = b""
        self._started = False

    def data_received(self, data: bytes) -> None:
        self._data += data
        out = self._startup() if not self._started else b""
        while self._started and len(self._data) >= 5:
            length = struct.unpack_from("!i", self._data, 1)[0]
            if len(self._data) < length + 1:
                break
            type_byte, body = self._data[:1], self._data[5 : length + 1]
            self._data = self._data[length + 1 :]
            if type_byte == b"D":  # Describe: of a statement (S) or of a portal (P)
                parameters = _message(b"t", struct.pack("!h", 0)) if body[:1] == b"S" else b""
                out += parameters + _ROW_DESCRIPTION
            elif type_byte == b"X":
                self._transport.close()
                return
            else:
                out += _REPLIES.get(type_byte, b"")
        if out:
            self._transport.write(out)

    def _startup(self) -> bytes:
        if len(self._data) < 8:
            return b""
        length, code = struct.unpack_from("!ii", self._data)
        if len(self._data) < length:
            return b""
        self._data = self._data[length:]
        if code == _SSL_REQUEST:
            return b"N"
        self._started = True
        return _STARTED


async def _serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    await loop.create_server(_CannedServer, "127.0.0.1", port)
    await asyncio.Event().wait()


@contextmanager
def _canned_server() -> Iterator[tuple[int, int]]:
    """(port, pid) of a canned server in a child process."""
    port = free_port()
    command = [sys.executable, "-m", "benchmarks.transport_floor", str(port)]
    child = subprocess.Popen(command)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or child.poll() is not None:
                    raise RuntimeError("the canned server did not start") from None
                time.sleep(0.05)
        yield port, child.pid
    finally:
        child.terminate()
        child.wait(10)


def _round_trips(port: int) -> dict[str, float]:
    dsn = f"host=127.0.0.1 port={port} user=floor dbname=floor sslmode=disable"
    with psycopg.connect(dsn, autocommit=True) as conn:
        for _ in range(200):
            conn.execute("SELECT 1", prepare=True).fetchall()
        latencies = []
        started = time.perf_counter()
        for _ in range(ROUND_TRIPS):
            t0 = time.perf_counter()
            conn.execute("SELECT 1", prepare=True).fetchall()
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
    return {
        "qps": round(ROUND_TRIPS / elapsed, 1),
        "p50_ms": round(float(np.percentile(latencies, 50)) * 1000, 3),
        "p99_ms": round(float(np.percentile(latencies, 99)) * 1000, 3),
    }


def transport_floor(args: argparse.Namespace) -> list[Row]:
    """The canned server's prepared `SELECT 1` round trip in each placement of the two
    processes; the client's own CPU set is restored afterwards."""
    cpus = sorted(os.sched_getaffinity(0))
    placements = {"scheduler": (set(cpus), set(cpus)), "same_cpu": ({cpus[0]}, {cpus[0]})}
    if len(cpus) > 1:
        placements["two_cpus"] = ({cpus[0]}, {cpus[1]})
    return measured(placements)


def measured(placements: dict[str, tuple[set[int], set[int]]]) -> list[Row]:
    """One line per placement: (server CPUs, client CPUs)."""
    lines: list[Row] = []
    own = os.sched_getaffinity(0)
    with _canned_server() as (port, pid):
        try:
            for name, (server_cpus, client_cpus) in placements.items():
                os.sched_setaffinity(pid, server_cpus)
                os.sched_setaffinity(0, client_cpus)
                line: Row = {"scenario": SCENARIO, "system": "canned_server", "measure": "select_1"}
                line["placement"] = name
                lines.append({**line, **_round_trips(port)})
        finally:
            os.sched_setaffinity(0, own)
    return lines


def scheduler_line() -> Row:
    """The floor as the servers beside it run: both processes left to the scheduler."""
    cpus = os.sched_getaffinity(0)
    return measured({"scheduler": (cpus, cpus)})[0]


if __name__ == "__main__":
    asyncio.run(_serve(int(sys.argv[1])))
