"""psql 15's meta-commands and tab completion against the server, with the real psql binary."""

from __future__ import annotations

import os
import pty
import select
import shutil
import time
from collections.abc import Iterator

import pytest

from sqlvec.testing import ServerProcess
from tests.e2e.test_psql import psql

SETUP = (
    "DROP TABLE IF EXISTS meta_docs; "
    "CREATE TABLE meta_docs (id bigint PRIMARY KEY, category int, embedding vector(128)); "
    "CREATE INDEX meta_docs_embedding_idx ON meta_docs USING hnsw (embedding)"
)
# Meta-commands answered like PostgreSQL with nothing of that kind: a header and no rows.
EMPTY = [
    "\\dv",
    "\\dm",
    "\\ds",
    "\\dE",
    "\\dD",
    "\\dc",
    "\\dd",
    "\\des",
    "\\dew",
    "\\det",
    "\\deu",
    "\\dC",
    "\\dy",
    "\\dl",
    "\\dconfig",
    "\\dX",
    "\\dO",
]


@pytest.fixture(scope="module")
def meta_docs(server: ServerProcess) -> Iterator[ServerProcess]:
    assert psql(server, "-c", SETUP).returncode == 0
    yield server
    psql(server, "-c", "DROP TABLE meta_docs")


def _run(server: ServerProcess, command: str) -> str:
    """stdout and stderr: psql prints "Did not find any relations." on stderr."""
    result = psql(server, "-v", "ON_ERROR_STOP=1", "-c", command)
    assert result.returncode == 0, (command, result.stderr)
    assert "ERROR" not in result.stderr, (command, result.stderr)
    return result.stdout + result.stderr


@pytest.mark.parametrize("command", EMPTY)
def test_meta_command_without_objects_answers_without_error(
    meta_docs: ServerProcess, command: str
) -> None:
    out = _run(meta_docs, command)
    assert "(0 rows)" in out or "Did not find any" in out, out


def test_df_lists_sqlvec_functions(meta_docs: ServerProcess) -> None:
    lines = [" ".join(line.split()) for line in _run(meta_docs, "\\df").splitlines()]
    assert "public | l2_distance | double precision | vector, vector | func" in lines
    assert "public | cosine_distance | double precision | vector, vector | func" in lines
    assert "public | vector_dims | integer | vector | func" in lines
    assert "public | avg | vector | vector | agg" in lines
    assert "public | subvector | vector | vector, integer, integer | func" in lines
    assert "public | binary_quantize | bit | vector | func" in lines
    assert "(13 rows)" in lines
    verbose = _run(meta_docs, "\\df+ vector_dims")
    assert "immutable" in verbose and "(1 row)" in verbose


def test_do_lists_pgvector_operators(meta_docs: ServerProcess) -> None:
    lines = [" ".join(line.split()) for line in _run(meta_docs, "\\do").splitlines()]
    assert "public | <-> | vector | vector | double precision |" in lines
    assert "public | <=> | vector | vector | double precision |" in lines
    assert "public | <~> | bit | bit | double precision |" in lines
    assert "public | + | vector | vector | vector |" in lines
    assert "public | || | vector | vector | vector |" in lines


def test_describe_index_shows_its_column(meta_docs: ServerProcess) -> None:
    out = _run(meta_docs, "\\d meta_docs_embedding_idx")
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert 'Index "public.meta_docs_embedding_idx"' in lines
    assert "embedding | vector(128) | yes | embedding" in lines
    assert 'hnsw, for table "public.meta_docs"' in lines
    lines = [" ".join(line.split()) for line in _run(meta_docs, "\\d meta_docs_pkey").splitlines()]
    assert "id | bigint | yes | id" in lines
    assert 'primary key, btree, for table "public.meta_docs"' in lines


def test_dx_dl_and_privileges(meta_docs: ServerProcess) -> None:
    assert "vector data type and ivfflat and hnsw access methods" in _run(meta_docs, "\\dx")
    assert "PL/pgSQL procedural language" in _run(meta_docs, "\\dL")
    assert "pg_default" in _run(meta_docs, "\\db")
    for command in ("\\dp", "\\z"):
        assert "meta_docs" in _run(meta_docs, command)
    assert "sqlvec" in _run(meta_docs, "\\dg")
    assert "0 bytes" in _run(meta_docs, "\\l+")


def test_expanded_display_and_describe_plus(meta_docs: ServerProcess) -> None:
    result = psql(meta_docs, "-v", "ON_ERROR_STOP=1", stdin="\\x\nSELECT 1 AS a, 'b' AS b;\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "-[ RECORD 1 ]" in out and "a | 1" in out
    lines = [" ".join(line.split()) for line in _run(meta_docs, "\\d+ meta_docs").splitlines()]
    assert "embedding | vector(128) | | not null | | extended | | |" in lines
    assert "Access method: heap" in lines


def _complete(server: ServerProcess, typed: str) -> str:
    """What psql shows after `typed` and two TABs (the completion, or the list of them)."""
    binary = shutil.which("psql")
    if binary is None:
        pytest.fail("psql is not installed (make test installs postgresql-client)")
    args = [binary, "-X", "-h", "127.0.0.1", "-p", str(server.port), "-U", "sqlvec", "sqlvec"]
    pid, fd = pty.fork()
    if pid == 0:  # the child: psql on the terminal
        os.environ["PGSSLMODE"] = "disable"
        os.execv(binary, args)
    try:
        _read_until(fd, b"=#")
        os.write(fd, typed.encode() + b"\t\t")
        return _read_for(fd, 1.5).decode(errors="replace")
    finally:
        os.write(fd, b"\x03\\q\n")
        _read_for(fd, 0.5)
        os.close(fd)
        os.waitpid(pid, 0)


def _read_until(fd: int, marker: bytes, timeout: float = 10.0) -> bytes:
    out = b""
    deadline = time.monotonic() + timeout
    while marker not in out and time.monotonic() < deadline:
        out += _read_for(fd, 0.1)
    return out


def _read_for(fd: int, seconds: float) -> bytes:
    out = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                out += os.read(fd, 65536)
            except OSError:
                break
    return out


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("SELECT * FROM meta_d", "meta_docs"),
        ("SELECT id FROM meta_docs WHERE emb", "embedding"),
        ("SET ef_s", "ef_search"),
        ("CREATE INDEX ON meta_docs USING hn", "hnsw"),
        ("DROP INDEX meta_docs_e", "meta_docs_embedding_idx"),
        ("\\c sqlv", "sqlvec"),
    ],
)
def test_tab_completion_offers_names(meta_docs: ServerProcess, typed: str, shown: str) -> None:
    assert shown in _complete(meta_docs, typed)
