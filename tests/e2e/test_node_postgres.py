"""node-postgres (`pg` on npm) against a real server, through tests/e2e/node/knn.js.

`make test` installs the package (`npm install --prefix tests/e2e/node`) when npm exists."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from sqlvec.testing import ServerProcess

NODE_DIR = Path(__file__).parent / "node"
DIM = 8
N = 150
K = 5


def test_node_postgres_knn_scalar_and_errors(server: ServerProcess) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    assert (NODE_DIR / "node_modules" / "pg").is_dir(), (
        "node-postgres is missing: run `npm install --prefix tests/e2e/node` (make test does)"
    )
    rng = np.random.default_rng(41)
    vectors = rng.standard_normal((N, DIM)).astype(np.float32)
    queries = rng.standard_normal((4, DIM)).astype(np.float32)
    payload = {
        "port": server.port,
        "table": "node_docs",
        "dim": DIM,
        # float32 values printed exactly, so both sides hold the same vectors.
        "vectors": [[float(x) for x in v] for v in vectors],
        "queries": [[float(x) for x in q] for q in queries],
        "k": K,
    }
    result = subprocess.run(
        [node, str(NODE_DIR / "knn.js")],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)

    assert out["inserted"] == N
    for query, rows in zip(queries, out["knn"], strict=True):
        distances = np.linalg.norm(vectors - query, axis=1)
        order = np.argsort(distances)[:K]
        assert [r["id"] for r in rows] == (order + 1).tolist()
        assert [r["title"] for r in rows] == [f"doc {i}" for i in order]
        assert all(isinstance(r["distance"], float) for r in rows)  # float8 parsed by pg
        np.testing.assert_allclose([r["distance"] for r in rows], distances[order], rtol=1e-5)
    assert out["scalar"] == {"n": N - 10, "top": N}
    assert out["fields"] == ["n", "top"]
    assert out["error"]["code"] == "23505"
    assert out["syntax_error"]["code"] == "42601"
    assert out["after_error"] == N
