"""Shared fixtures: a real sqlvec server process on 127.0.0.1 and clients connected to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from sqlvec.testing import ServerProcess


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the whole run; tests that restart or kill it start their own."""
    process = ServerProcess(tmp_path_factory.mktemp("sqlvec") / "data").start()
    yield process
    process.stop()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server this test may restart or kill."""
    process = ServerProcess(tmp_path / "data").start()
    yield process
    if process.process is not None and process.process.poll() is None:
        process.stop()


@pytest.fixture
def conn(server: ServerProcess) -> Iterator[psycopg.Connection]:
    with psycopg.connect(server.dsn, autocommit=True) as connection:
        yield connection
