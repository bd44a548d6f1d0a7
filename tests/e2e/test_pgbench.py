"""pgbench (extended query protocol, `\\set` random ids) running a kNN script against a real
server; the script checks every answer against numpy brute force stored in the collection."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import psycopg
import pytest

from sqlvec.testing import ServerProcess
from sqlvec.vectors import format_vector

SCRIPT = Path(__file__).parent / "pgbench" / "knn.sql"
N = 100
DIM = 8


def load(server: ServerProcess) -> None:
    vectors = np.random.default_rng(51).standard_normal((N, DIM)).astype(np.float32)
    distances = np.linalg.norm(vectors[:, None, :] - vectors[None, :, :], axis=2)
    fifth = np.argsort(distances, axis=1)[:, 4] + 1  # column 0 is the row itself
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS pgb_docs")
        conn.execute(
            f"CREATE TABLE pgb_docs (id BIGINT PRIMARY KEY, nn5 BIGINT, embedding vector({DIM}))"
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO pgb_docs (id, nn5, embedding) VALUES (%s, %s, %s)",
                [(i + 1, int(fifth[i]), format_vector(v)) for i, v in enumerate(vectors)],
            )


def pgbench(server: ServerProcess, script: Path, mode: str) -> subprocess.CompletedProcess[str]:
    command = ["pgbench", "-n", "-f", str(script), "-M", mode, "-t", "50"]
    command += ["-h", "127.0.0.1", "-p", str(server.port), "-U", "sqlvec", "sqlvec"]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.skipif(shutil.which("pgbench") is None, reason="pgbench is not installed")
@pytest.mark.parametrize("mode", ["extended", "prepared", "simple"])
def test_pgbench_knn_script(server: ServerProcess, mode: str) -> None:
    load(server)
    result = pgbench(server, SCRIPT, mode)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "number of transactions actually processed: 50/50" in result.stdout
    assert "number of failed transactions: 0" in result.stdout


@pytest.mark.skipif(shutil.which("pgbench") is None, reason="pgbench is not installed")
def test_pgbench_script_catches_a_wrong_answer(server: ServerProcess, tmp_path: Path) -> None:
    """The checks in knn.sql really fail the run when an answer is wrong."""
    load(server)
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("UPDATE pgb_docs SET nn5 = 0")
    result = pgbench(server, SCRIPT, "extended")
    assert result.returncode != 0
    assert "division by zero" in result.stderr
