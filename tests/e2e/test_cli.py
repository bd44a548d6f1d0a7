"""The command line: help, and a clean shutdown on SIGINT and SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from sqlvec.testing import ServerProcess


def test_help_lists_the_serve_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sqlvec", "serve", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0
    for option in ("--host", "--port", "--data", "--log-level"):
        assert option in result.stdout


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_stops_the_server_cleanly(tmp_path: Path, sig: int) -> None:
    server = ServerProcess(tmp_path / "data").start()
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE c (id BIGINT PRIMARY KEY, e vector(2))")
        # An open connection must not keep the server from stopping.
        assert server.stop(sig) == 0
    assert "sqlvec stopped" in server.log()
    assert (tmp_path / "data" / "sqlvec.duckdb").exists()
