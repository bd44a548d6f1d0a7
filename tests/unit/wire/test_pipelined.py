"""Bind, Describe, Execute and Sync answered in one step (sqlvec.wire.pipelined) write exactly
the bytes of the four steps taken one at a time, and the step is taken only where it may be.

The real server (Engine, Session, sockets) runs in this process so that the test can count
which way each query went. A Flush after the Bind forces the one-at-a-time way: it changes no
reply byte, but the messages after the Bind are no longer the pattern."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from wire_fakes import (
    FLUSH,
    SYNC,
    RawClient,
    bind,
    describe,
    execute,
    message,
    parse,
    query,
    startup_packet,
)

from sqlvec.server import Server
from sqlvec.session import Session
from sqlvec.wire.protocol import _Connection

INT4_OID = 23


class InProcessServer:
    def __init__(self, data_dir: Path) -> None:
        self.server = Server(data_dir, "127.0.0.1", 0, workers=2)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._call(self.server.start())

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    def close(self) -> None:
        self._call(self.server.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


@pytest.fixture(scope="module")
def sqlvec(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    running = InProcessServer(tmp_path_factory.mktemp("pipelined"))
    dsn = f"host=127.0.0.1 port={running.server.port} user=test dbname=test"
    vectors = np.random.default_rng(7).standard_normal((40, 4)).astype(np.float32)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE docs (id BIGINT PRIMARY KEY, category INT, embedding vector(4))")
        for i, vector in enumerate(vectors):
            text = "[" + ",".join(map(repr, vector.tolist())) + "]"
            conn.execute("INSERT INTO docs VALUES (%s, %s, %s)", (i, i % 4, text))
    yield running
    running.close()


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each run_pipelined call answered (True), or declined or raised (False)."""
    calls: list[bool] = []
    original = Session.run_pipelined

    def counted(self: Session, statement: str, params: list[Any]) -> Any:
        calls.append(False)
        result = original(self, statement, params)
        calls[-1] = result is not None
        return result

    monkeypatch.setattr(Session, "run_pipelined", counted)
    return calls


@pytest.fixture
def client(sqlvec: InProcessServer) -> Iterator[RawClient]:
    raw = RawClient(sqlvec.server.port)
    raw.send(startup_packet({"user": "test", "database": "test"}))
    raw.receive_until_ready()
    yield raw
    raw.close()


KNN = "SELECT id, embedding <-> $1 AS distance FROM docs ORDER BY embedding <-> $1 LIMIT 5"
FILTERED = "SELECT id, category FROM docs WHERE category = $2 ORDER BY embedding <-> $1 LIMIT 3"

ANSWERED, DECLINED, NOT_ASKED = [True], [False], []  # what the session did, per `taken`

# (SQL, parameter type oids, parameters, result formats, what the session did)
CASES: dict[
    str, tuple[str, tuple[int, ...], tuple[bytes | None, ...], tuple[int, ...], list[bool]]
] = {
    "knn, text results": (KNN, (), (b"[1,2,3,4]",), (), ANSWERED),
    "knn, binary results": (KNN, (), (b"[1,2,3,4]",), (1,), ANSWERED),
    "filtered knn": (FILTERED, (0, INT4_OID), (b"[0,1,0,1]", b"2"), (), ANSWERED),
    "constant": ("SELECT 1 AS one, 'x' AS letter", (), (), (), ANSWERED),
    "wrong dimension: raised": (KNN, (), (b"[1,2]",), (), DECLINED),
    "NULL query vector: raised": (KNN, (), (None,), (), DECLINED),
    "fewer rows than k: a notice": (KNN.replace("5", "100"), (), (b"[1,1,1,1]",), (), DECLINED),
    "no vector: DuckDB": (
        "SELECT count(*) FROM docs WHERE category = $1",
        (),
        (b"1",),
        (),
        DECLINED,
    ),
    "bad vector text": (KNN, (), (b"[1,2",), (), NOT_ASKED),
    "too many result formats": (KNN, (), (b"[1,2,3,4]",), (0, 1, 0), NOT_ASKED),
}


def _run(
    client: RawClient, case: str, one_step: bool, portal: str = "", with_describe: bool = True
) -> list[tuple[bytes, bytes]]:
    sql, oids, params, formats, _ = CASES[case]
    client.send(parse("s", sql, oids), SYNC)
    client.receive_until_ready()
    steps = [bind(portal, "s", params, result_formats=formats)]
    if not one_step:
        steps.append(FLUSH)
    if with_describe:
        steps.append(describe(b"P", portal))
    client.send(*steps, execute(portal), SYNC)
    replies = client.receive_until_ready()
    client.send(message(b"C", b"Ss\0"), SYNC)  # Close the statement for the next run
    client.receive_until_ready()
    return replies


@pytest.mark.parametrize("case", CASES)
def test_one_step_writes_the_bytes_of_four(client: RawClient, taken: list[bool], case: str) -> None:
    four_steps = _run(client, case, one_step=False)
    assert taken == []  # the Flush kept the Bind from being answered at once
    one_step = _run(client, case, one_step=True)
    assert one_step == four_steps
    assert taken == CASES[case][4]


def test_without_describe(client: RawClient, taken: list[bool]) -> None:
    assert _run(client, "knn, text results", True, with_describe=False) == _run(
        client, "knn, text results", False, with_describe=False
    )
    assert taken == [True]
    assert [t for t, _ in _run(client, "knn, text results", True, with_describe=False)] == [
        b"2",
        *[b"D"] * 5,
        b"C",
        b"Z",
    ]


def test_one_statement_in_turn_in_text_binary_and_without_describe(
    client: RawClient, taken: list[bool]
) -> None:
    """A statement's reply heads are encoded once per result format and Describe: each run
    of one kept statement still gets its own (pipelined._head)."""
    sql, _, params, _, _ = CASES["knn, text results"]
    client.send(parse("kept", sql), SYNC)
    client.receive_until_ready()
    runs: dict[bool, list[list[tuple[bytes, bytes]]]] = {True: [], False: []}
    for formats, described in [((), True), ((1,), True), ((), False), ((1,), True), ((), True)]:
        for one_step in (True, False):
            steps = [bind("", "kept", params, result_formats=formats)]
            steps += [] if one_step else [FLUSH]
            steps += [describe(b"P", "")] if described else []
            client.send(*steps, execute(""), SYNC)
            runs[one_step].append(client.receive_until_ready())
    assert runs[True] == runs[False]
    assert runs[True][0] == runs[True][4] != runs[True][1] == runs[True][3]
    assert [t for t, _ in runs[True][2]][:2] == [b"2", b"D"]  # no RowDescription
    assert taken == [True] * 5


def test_named_portal_goes_the_usual_way(client: RawClient, taken: list[bool]) -> None:
    replies = _run(client, "knn, text results", True, portal="p")
    assert replies == _run(client, "knn, text results", False, portal="p")
    assert taken == []


def test_inside_a_transaction_block_the_session_declines(
    client: RawClient, taken: list[bool]
) -> None:
    client.send(query("BEGIN"))
    assert client.receive_until_ready()[-1] == (b"Z", b"T")
    replies = _run(client, "knn, text results", True)
    assert replies[-1] == (b"Z", b"T")
    assert replies == _run(client, "knn, text results", False)
    client.send(query("COMMIT"))
    client.receive_until_ready()
    assert taken == [False]


def test_after_an_error_the_connection_goes_on(client: RawClient, taken: list[bool]) -> None:
    errors = _run(client, "wrong dimension: raised", True)
    assert [t for t, _ in errors] == [b"2", b"T", b"E", b"Z"]  # Execute failed
    assert b"22000" in errors[2][1]
    rows = _run(client, "knn, text results", True)
    assert [t for t, _ in rows] == [b"2", b"T", *[b"D"] * 5, b"C", b"Z"]
    assert taken == [False, True]


def test_a_changed_table_is_planned_again(
    sqlvec: InProcessServer, client: RawClient, taken: list[bool]
) -> None:
    dsn = f"host=127.0.0.1 port={sqlvec.server.port} user=test dbname=test"
    sql, _, params, _, _ = CASES["knn, text results"]
    client.send(parse("kept", sql), SYNC)
    client.receive_until_ready()
    with psycopg.connect(dsn, autocommit=True) as other:
        other.execute("CREATE TABLE other_table (id BIGINT PRIMARY KEY)")  # the catalog moves
    try:
        client.send(bind("", "kept", params), describe(b"P", ""), execute(""), SYNC)
        replies = client.receive_until_ready()
    finally:
        with psycopg.connect(dsn, autocommit=True) as other:
            other.execute("DROP TABLE other_table")
    assert [t for t, _ in replies] == [b"2", b"T", *[b"D"] * 5, b"C", b"Z"]
    assert taken == [False]  # a plan older than the catalog: the usual way plans it again


def test_an_unknown_statement_goes_the_usual_way(client: RawClient, taken: list[bool]) -> None:
    replies = []
    for steps in ([bind("", "nope")], [bind("", "nope"), FLUSH]):
        client.send(*steps, describe(b"P", ""), execute(""), SYNC)
        replies.append(client.receive_until_ready())
    assert replies[0] == replies[1]
    assert [t for t, _ in replies[0]] == [b"E", b"Z"]
    assert b"26000" in replies[0][0][1]
    assert taken == []


@pytest.fixture
def inline(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each read offered to the read callback (wire.listener): whether it answered any.
    Asked for before `client`: a connection binds the callback when it starts."""
    calls: list[bool] = []
    original = _Connection._answer_inline

    def counted(self: _Connection, data: bytes) -> bytes:
        rest = original(self, data)
        calls.append(len(rest) < len(data))
        return rest

    monkeypatch.setattr(_Connection, "_answer_inline", counted)
    return calls


def _prepared_knn(client: RawClient) -> tuple[bytes, ...]:
    """Prepare the kNN case as "s"; the messages that run it in one step."""
    sql, _, params, _, _ = CASES["knn, text results"]
    client.send(parse("s", sql), SYNC)
    client.receive_until_ready()
    return bind("", "s", params), describe(b"P", ""), execute(""), SYNC


def test_a_prepared_query_in_one_read_is_answered_inline(
    inline: list[bool], client: RawClient, taken: list[bool]
) -> None:
    one_step = _run(client, "knn, text results", True)
    assert inline.count(True) == 1
    assert one_step == _run(client, "knn, text results", False)
    assert inline.count(True) == 1  # the Flush made it the usual way
    assert taken == [True]


def test_what_follows_in_the_same_read_is_answered_after_it(
    inline: list[bool], client: RawClient, taken: list[bool]
) -> None:
    step = _prepared_knn(client)
    client.send(*step, query("SELECT 7 AS seven"), *step)
    first, second, third = (client.receive_until_ready() for _ in range(3))
    assert inline.count(True) == 1  # the rest woke the connection's task
    assert first == third
    assert [t for t, _ in first] == [b"2", b"T", *[b"D"] * 5, b"C", b"Z"]
    assert [t for t, _ in second] == [b"T", b"D", b"C", b"Z"]
    assert second[1][1].endswith(b"7")
    assert taken == [True, True]


def test_a_query_split_across_reads_goes_the_usual_way(
    inline: list[bool], client: RawClient
) -> None:
    packet = b"".join(_prepared_knn(client))
    client.send(packet[:7])
    time.sleep(0.05)  # two reads on the server
    client.send(packet[7:])
    replies = client.receive_until_ready()
    assert [t for t, _ in replies] == [b"2", b"T", *[b"D"] * 5, b"C", b"Z"]
    assert True not in inline
    assert replies == _run(client, "knn, text results", False)


def test_a_broken_message_after_an_inline_answer_ends_the_connection(
    inline: list[bool], client: RawClient
) -> None:
    client.send(*_prepared_knn(client), b"Q\0\0\0\x01")
    assert [t for t, _ in client.receive_until_ready()][-1] == b"Z"
    fatal = client.receive()
    assert fatal[0] == b"E" and b"FATAL" in fatal[1] and b"08P01" in fatal[1]
    assert client.is_closed()
    # Counted only now: the callback records its answer after writing it, on the server's
    # thread, and the FATAL comes from the task that woke after it returned.
    assert inline.count(True) == 1
