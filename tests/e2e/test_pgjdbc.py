"""pgjdbc (Debian's libpostgresql-jdbc-java) against a real server, through
tests/e2e/java/KnnJdbc.java run as a single-file Java program.

`make` installs the JDK and the driver with apt where it can; the test skips only without
`java` or the jar. SQLVEC_PGJDBC_JAR points at another copy of the driver."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import psycopg
import pytest

from sqlvec.testing import ServerProcess

PROGRAM = Path(__file__).parent / "java" / "KnnJdbc.java"
JAR = Path(os.environ.get("SQLVEC_PGJDBC_JAR", "/usr/share/java/postgresql.jar"))
N = 40
QUERIES = 9  # pgjdbc server-prepares after 5 runs (prepareThreshold) and then asks for binary
K = 5


def _vector_text(values: np.ndarray) -> str:
    return "[" + ",".join(repr(float(x)) for x in values) + "]"


def _java(server: ServerProcess, table: str, lines: list[str]) -> subprocess.CompletedProcess[str]:
    java = shutil.which("java")
    if java is None:
        pytest.skip("java is not installed (apt-get install default-jdk-headless)")
    if not JAR.is_file():
        pytest.skip(f"pgjdbc is not installed: no {JAR} (apt-get install libpostgresql-jdbc-java)")
    return subprocess.run(
        [java, "-cp", str(JAR), str(PROGRAM), str(server.port), table],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _records(result: subprocess.CompletedProcess[str]) -> dict[str, list[list[str]]]:
    assert result.returncode == 0, result.stderr
    records: dict[str, list[list[str]]] = {}
    for line in result.stdout.splitlines():
        kind, *fields = line.split("\t")
        records.setdefault(kind, []).append(fields)
    return records


def test_pgjdbc_prepared_knn_binary_metadata_and_errors(server: ServerProcess) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((N, 3)).astype(np.float32)
    queries = rng.standard_normal((QUERIES, 3)).astype(np.float32)
    lines = [f"K {K}"]
    lines += [f"V {i + 1} doc{i + 1} {_vector_text(v)}" for i, v in enumerate(vectors)]
    lines += [f"Q {_vector_text(q)}" for q in queries]
    out = _records(_java(server, "jdbc_items", lines))

    assert out["inserted"] == [[str(N)]]  # a batch, then single executions past the threshold
    assert len(out["knn"]) == QUERIES
    for (run, _prepared, formats, ids, titles, dists, embs, cls), query in zip(
        out["knn"], queries, strict=True
    ):
        distances = np.linalg.norm(vectors - query, axis=1)
        order = np.argsort(distances)[:K]
        assert [int(i) for i in ids.split(",")] == (order + 1).tolist(), run
        assert titles.split("|") == [f"doc{i + 1}" for i in order]
        np.testing.assert_allclose([float(d) for d in dists.split(",")], distances[order], 1e-5)
        got = np.array([[float(x) for x in e.strip("[]").split(",")] for e in embs.split(";")])
        np.testing.assert_array_equal(got.astype(np.float32), vectors[order])
        assert cls == "PGobject"  # pgjdbc has no class for vector: the text form in a PGobject
        # id and distance binary from the 6th run; title and vector stay text (pgjdbc asks
        # binary only for types it decodes itself)
        assert formats == ("1001" if int(run) >= 6 else "0000"), run
    assert out["types"] == [["int8", "text", "vector", "float8"]]

    ids = np.arange(1, N + 1)
    for run, formats, n, top, first, big, mean in out["scalar"]:
        kept = ids[ids > int(run)]
        assert (int(n), int(top), float(mean)) == (len(kept), N, kept.mean())
        assert first == min(f"doc{i}" for i in kept)
        assert big == "true"
        assert formats == ("11001" if int(run) >= 6 else "00000"), run

    # DatabaseMetaData: getTables, getColumns and getPrimaryKeys run pgjdbc's catalog SQL.
    assert out["table"] == [["null", "public", "jdbc_items", "TABLE", "null"]]
    assert out["column"] == [
        # name, java.sql.Types, type name, size, columnNoNulls, position, autoincrement
        ["jdbc_items", "id", "-5", "int8", "19", "0", "1", "NO"],
        ["jdbc_items", "title", "12", "text", "2147483647", "0", "2", "NO"],
        ["jdbc_items", "embedding", "1111", "vector", "2147483647", "0", "3", "NO"],
    ]
    assert out["pk"] == [["jdbc_items", "id", "1", "jdbc_items_pkey"]]
    assert out["error"] == [["23505"], ["42601"]]
    assert out["after_error"] == [[str(N)]]


def test_pgjdbc_bad_vector_parameter_is_an_error(server: ServerProcess) -> None:
    # A vector of the wrong dimension: the batch insert fails with pgvector's SQLSTATE.
    lines = ["K 1", "V 1 doc1 [1,2,3]", "V 2 doc2 [1,2]", "Q [1,2,3]"]
    result = _java(server, "jdbc_bad", lines)
    assert result.returncode != 0
    assert "expected 3 dimensions, not 2" in result.stderr
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        # the first batch row went in before the bad one (statements commit one by one)
        assert conn.execute("SELECT id FROM jdbc_bad").fetchall() == [(1,)]
        conn.execute("DROP TABLE jdbc_bad")
