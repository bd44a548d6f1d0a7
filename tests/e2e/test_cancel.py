"""Query cancellation against a real server: CancelRequest (psycopg, asyncpg, psql's Ctrl-C, a
raw socket) and statement_timeout. A cancelled statement answers 57014, the connection stays
usable, and a cancelled write leaves nothing behind."""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg
import numpy as np
import psycopg
import pytest

from sqlvec.testing import ServerProcess
from sqlvec.vectors import format_vector

# Runs in DuckDB for minutes unless it is stopped (the filter defeats count(*)'s shortcut).
LONG_QUERY = "SELECT count(*) FROM range(100000000000) t(i) WHERE i % 7 = 3"
USER_REQUEST = "canceling statement due to user request"
STATEMENT_TIMEOUT = "canceling statement due to statement timeout"
CANCEL_REQUEST_CODE = 80877102


def long_query_error(conn: psycopg.Connection) -> tuple[psycopg.Error, float]:
    """Run LONG_QUERY, which must fail; returns the error and the seconds it took."""
    start = time.monotonic()
    with pytest.raises(psycopg.Error) as caught:
        conn.execute(LONG_QUERY)
    return caught.value, time.monotonic() - start


def later(seconds: float, action: Callable[[], object]) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


@pytest.mark.parametrize("method", ["cancel", "cancel_safe"])
def test_psycopg_cancel_stops_a_long_query(server: ServerProcess, method: str) -> None:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("SET statement_timeout = '60s'")  # a backstop: the cancel must come first
        later(0.3, getattr(conn, method))
        error, seconds = long_query_error(conn)
        assert isinstance(error, psycopg.errors.QueryCanceled)
        assert error.sqlstate == "57014"
        assert error.diag.message_primary == USER_REQUEST
        assert seconds < 10
        assert conn.execute("SELECT 41 + 1").fetchone() == (42,)
        assert conn.execute("SELECT count(*) FROM range(1000) t(i) WHERE i % 7 = 3").fetchone() == (
            143,
        )


def test_cancel_while_idle_does_not_touch_the_next_statement(server: ServerProcess) -> None:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("SELECT 1")
        conn.cancel_safe()
        conn.cancel()
        time.sleep(0.2)  # the server has read both requests
        # A query that runs a while in DuckDB: an interrupt left over would stop it.
        row = conn.execute("SELECT count(*) FROM range(30000000) t(i) WHERE i % 7 = 3").fetchone()
        assert row == (4285714,)
        assert conn.execute("SELECT 'still here'").fetchone() == ("still here",)


def send_cancel_request(port: int, process_id: int, secret_key: int) -> bytes:
    """A CancelRequest on its own connection; returns what the server sent before closing."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(struct.pack("!iiii", 16, CANCEL_REQUEST_CODE, process_id, secret_key))
        received = b""
        while chunk := sock.recv(1024):
            received += chunk
        return received


def test_wrong_key_cancels_nothing_and_the_right_session_only(server: ServerProcess) -> None:
    with (
        psycopg.connect(server.dsn, autocommit=True) as target,
        psycopg.connect(server.dsn, autocommit=True) as bystander,
    ):
        target.execute("SET statement_timeout = '3s'")
        bystander.execute("SET statement_timeout = '3s'")
        pid = target.info.backend_pid
        replies: list[bytes] = []
        # Right process id, wrong key; then a key for no session at all. Both are ignored.
        later(0.2, lambda: replies.append(send_cancel_request(server.port, pid, 0)))
        later(0.3, lambda: replies.append(send_cancel_request(server.port, 999999, 1)))
        results: dict[str, tuple[psycopg.Error, float]] = {}
        worker = threading.Thread(target=lambda: results.update(b=long_query_error(bystander)))
        worker.start()
        later(0.5, target.cancel_safe)  # the real key: only `target` is cancelled by it
        results["t"] = long_query_error(target)
        worker.join()
        assert replies == [b"", b""]  # no response, the server closes the connection
        error, seconds = results["t"]
        assert error.diag.message_primary == USER_REQUEST and seconds < 2.5
        error, seconds = results["b"]
        assert error.diag.message_primary == STATEMENT_TIMEOUT and seconds >= 2.9
        assert target.execute("SELECT 1").fetchone() == (1,)
        assert bystander.execute("SELECT 2").fetchone() == (2,)


def test_statement_timeout_stops_long_queries_only(server: ServerProcess) -> None:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        assert conn.execute("SHOW statement_timeout").fetchone() == ("0",)
        conn.execute("SET statement_timeout = 300")
        assert conn.execute("SHOW statement_timeout").fetchone() == ("300ms",)
        error, seconds = long_query_error(conn)
        assert isinstance(error, psycopg.errors.QueryCanceled)
        assert error.diag.message_primary == STATEMENT_TIMEOUT
        assert 0.25 <= seconds < 10
        for _ in range(3):  # short statements run to completion under the same timeout
            assert conn.execute("SELECT count(*) FROM range(1000)").fetchone() == (1000,)
        conn.execute("RESET statement_timeout")
        assert conn.execute("SHOW statement_timeout").fetchone() == ("0",)
        # psycopg's extended protocol: the timeout applies to Execute as well.
        conn.execute("SET statement_timeout TO '200ms'")
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute(LONG_QUERY.replace("%", "%%") + " AND i > %s", (-1,))
        assert conn.execute("SELECT %s::int + 1", (1,)).fetchone() == (2,)


@pytest.mark.parametrize(
    ("value", "shown"),
    [("100", "100ms"), ("'100ms'", "100ms"), ("'2s'", "2s"), ("'1min'", "1min"),
     ("'1.5s'", "1500ms"), ("'90 s'", "90s"), ("'1h'", "1h"), ("0", "0")],
)  # fmt: skip
def test_statement_timeout_units(conn: psycopg.Connection, value: str, shown: str) -> None:
    conn.execute(f"SET statement_timeout = {value}")
    assert conn.execute("SHOW statement_timeout").fetchone() == (shown,)
    conn.execute("RESET statement_timeout")


@pytest.mark.parametrize(
    ("value", "message", "hint"),
    [
        ("'abc'", 'invalid value for parameter "statement_timeout": "abc"', None),
        (
            "'10 parsecs'",
            'invalid value for parameter "statement_timeout": "10 parsecs"',
            'Valid units for this parameter are "us", "ms", "s", "min", "h", and "d".',
        ),
        (
            "-1",
            '-1 ms is outside the valid range for parameter "statement_timeout" '
            "(0 ms .. 2147483647 ms)",
            None,
        ),
        ("'3000000000'", 'invalid value for parameter "statement_timeout": "3000000000"', None),
    ],
)
def test_statement_timeout_bad_values(
    conn: psycopg.Connection, value: str, message: str, hint: str | None
) -> None:
    conn.execute("SET statement_timeout = '5s'")
    with pytest.raises(psycopg.errors.InvalidParameterValue) as caught:
        conn.execute(f"SET statement_timeout = {value}")
    assert caught.value.sqlstate == "22023"
    assert caught.value.diag.message_primary == message
    if hint is not None:
        assert caught.value.diag.message_hint == hint
    assert conn.execute("SHOW statement_timeout").fetchone() == ("5s",)  # unchanged
    conn.execute("RESET statement_timeout")


def insert_values(count: int, dim: int, start: int = 0) -> str:
    vectors = np.random.default_rng(start).standard_normal((count, dim)).astype(np.float32)
    return ", ".join(f"({start + i}, '{format_vector(v)}')" for i, v in enumerate(vectors))


def test_cancelled_insert_and_copy_write_nothing(server: ServerProcess) -> None:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS cancel_writes")
        conn.execute("CREATE TABLE cancel_writes (id BIGINT PRIMARY KEY, embedding vector(8))")
        conn.execute(f"INSERT INTO cancel_writes VALUES {insert_values(10, 8)}")
        big = f"INSERT INTO cancel_writes VALUES {insert_values(20000, 8, start=100)}"
        conn.execute("SET statement_timeout = '1ms'")  # passes while the rows are evaluated
        with pytest.raises(psycopg.errors.QueryCanceled) as caught:
            conn.execute(big)
        assert caught.value.diag.message_primary == STATEMENT_TIMEOUT
        conn.execute("RESET statement_timeout")
        assert conn.execute("SELECT count(*) FROM cancel_writes").fetchone() == (10,)
        # COPY: the cancel comes while the client is still sending; CopyDone then fails.
        later(0.2, conn.cancel_safe)
        copy_sql = "COPY cancel_writes (id, embedding) FROM STDIN"
        with (
            pytest.raises(psycopg.errors.QueryCanceled) as caught,
            conn.cursor().copy(copy_sql) as copy,
        ):
            copy.write_row((500, "[1,2,3,4,5,6,7,8]"))
            time.sleep(0.6)
            copy.write_row((501, "[1,2,3,4,5,6,7,8]"))
        assert caught.value.diag.message_primary == USER_REQUEST
        assert conn.execute("SELECT count(*) FROM cancel_writes").fetchone() == (10,)
        found = conn.execute(
            "SELECT id FROM cancel_writes ORDER BY embedding <-> '[1,2,3,4,5,6,7,8]' LIMIT 20"
        ).fetchall()
        assert sorted(r[0] for r in found) == list(range(10))  # the search copy is untouched
        conn.execute(big)  # and the same writes work once nothing cancels them
        assert conn.execute("SELECT count(*) FROM cancel_writes").fetchone() == (20010,)
        conn.execute("DROP TABLE cancel_writes")


def test_statement_timeout_stops_create_index_and_leaves_no_index(server: ServerProcess) -> None:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS cancel_index")
        conn.execute(
            "CREATE COLLECTION cancel_index (id BIGINT PRIMARY KEY, embedding VECTOR(32)) "
            "WITH (segment_rows = 1000)"
        )
        conn.execute(f"INSERT INTO cancel_index VALUES {insert_values(12000, 32)}")
        conn.execute("SET statement_timeout = '100ms'")
        with pytest.raises(psycopg.errors.QueryCanceled) as caught:
            conn.execute(
                "CREATE INDEX ON cancel_index USING hnsw (embedding) "
                "WITH (m = 48, ef_construction = 400)"
            )
        assert caught.value.diag.message_primary == STATEMENT_TIMEOUT
        conn.execute("RESET statement_timeout")
        kinds = conn.execute(
            "SELECT DISTINCT index_type FROM sqlvec_collection_stats('cancel_index')"
        ).fetchall()
        assert kinds == [("flat",)]
        rows = conn.execute(
            "SELECT id FROM cancel_index ORDER BY embedding <-> "
            "(SELECT embedding FROM cancel_index WHERE id = 7) LIMIT 1"
        ).fetchall()
        assert rows == [(7,)]
        conn.execute("DROP TABLE cancel_index")


def test_asyncpg_timeout_cancels_and_the_connection_works(server: ServerProcess) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(
            host="127.0.0.1", port=server.port, user="sqlvec", database="sqlvec"
        )
        try:
            await connection.execute("SET statement_timeout = '60s'")
            start = time.monotonic()
            with pytest.raises(asyncio.TimeoutError):
                # On timeout asyncpg sends a CancelRequest and waits for the server's answer.
                await asyncio.wait_for(connection.fetchval(LONG_QUERY), timeout=0.5)
            assert time.monotonic() - start < 10
            assert await connection.fetchval("SELECT 40 + $1::int", 2) == 42
            with pytest.raises(asyncio.TimeoutError):
                await connection.fetchval(LONG_QUERY, timeout=0.3)  # command timeout
            assert await connection.fetchval("SELECT 'ok'") == "ok"
        finally:
            await connection.close()

    asyncio.run(run())


def test_asyncpg_statement_timeout_as_startup_parameter(server: ServerProcess) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(
            host="127.0.0.1",
            port=server.port,
            user="sqlvec",
            database="sqlvec",
            server_settings={"statement_timeout": "250ms"},
        )
        try:
            assert await connection.fetchval("SHOW statement_timeout") == "250ms"
            with pytest.raises(asyncpg.QueryCanceledError, match=STATEMENT_TIMEOUT):
                await connection.fetchval(LONG_QUERY)
            assert await connection.fetchval("SELECT 1") == 1
        finally:
            await connection.close()

    asyncio.run(run())


def psql_command(server: ServerProcess, *args: str) -> list[str]:
    binary = shutil.which("psql")
    if binary is None:
        pytest.fail("psql is not installed (make test installs postgresql-client)")
    return [
        binary,
        "-X",
        "-h",
        "127.0.0.1",
        "-p",
        str(server.port),
        "-U",
        "sqlvec",
        "sqlvec",
        *args,
    ]


def test_psql_statement_timeout_from_a_variable(server: ServerProcess) -> None:
    script = (
        "\\set timeout '300ms'\n"
        "SET statement_timeout = :'timeout';\n"
        "SHOW statement_timeout;\n"
        f"{LONG_QUERY};\n"
        "SELECT 6 * 7 AS answer;\n"
    )
    result = subprocess.run(
        psql_command(server, "-A", "-t"), input=script, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert f"ERROR:  {STATEMENT_TIMEOUT}" in result.stderr
    assert result.stdout.split() == ["SET", "300ms", "42"]


def test_psql_ctrl_c_sends_a_cancel_request(server: ServerProcess, tmp_path: Path) -> None:
    script = tmp_path / "long.sql"
    script.write_text(f"SET statement_timeout = '60s';\n{LONG_QUERY};\n")
    process = subprocess.Popen(
        psql_command(server, "-A", "-t", "-f", str(script)),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.5)  # psql is waiting for LONG_QUERY (it connects in well under a second)
    process.send_signal(signal.SIGINT)  # psql's Ctrl-C: a CancelRequest
    stdout, stderr = process.communicate(timeout=30)
    assert f"ERROR:  {USER_REQUEST}" in stderr
    assert stdout.split() == ["SET"]


def test_cancel_inside_a_block_fails_the_block_and_rollback_undoes_it(
    server: ServerProcess,
) -> None:
    with psycopg.connect(server.dsn, autocommit=True) as setup:
        setup.execute("CREATE TABLE cancel_tx (id BIGINT PRIMARY KEY, e vector(2))")
    with psycopg.connect(server.dsn) as conn:  # psycopg's default: a BEGIN block
        conn.execute("SET statement_timeout = '60s'")
        conn.execute("INSERT INTO cancel_tx VALUES (1, '[0,0]')")
        later(0.3, conn.cancel)
        error, _ = long_query_error(conn)
        assert isinstance(error, psycopg.errors.QueryCanceled)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
        with pytest.raises(psycopg.errors.InFailedSqlTransaction):
            conn.execute("SELECT 1")
        conn.rollback()
        assert conn.execute("SELECT count(*) FROM cancel_tx").fetchone() == (0,)
