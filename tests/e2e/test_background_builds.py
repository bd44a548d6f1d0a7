"""Segments sealed by inserts get their index built in the background; a kill -9 during that
build leaves search results correct after restart, and the build is redone."""

from __future__ import annotations

import time

import numpy as np
import psycopg

from sqlvec.testing import ServerProcess

DIM = 48
SEGMENT = 6000


def text(vector: np.ndarray) -> str:
    return "[" + ",".join(map(repr, vector.tolist())) + "]"


def insert(conn: psycopg.Connection, vectors: np.ndarray, first_id: int) -> None:
    for start in range(0, len(vectors), 1000):
        block = vectors[start : start + 1000]
        values = ", ".join(["(%s, %s)"] * len(block))
        params: list[object] = []
        for offset, vector in enumerate(block):
            params += [first_id + start + offset, text(vector)]
        conn.execute(f"INSERT INTO built (id, embedding) VALUES {values}", params)


def states(conn: psycopg.Connection) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT state, index_type FROM sqlvec_collection_stats('built') ORDER BY segment"
    ).fetchall()
    return [(state, kind) for state, kind in rows]


def exact(vectors: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    return np.argsort(np.linalg.norm(vectors - query, axis=1))[:k].tolist()


def test_kill_9_during_a_background_build(own_server: ServerProcess) -> None:
    vectors = np.random.default_rng(4).standard_normal((2 * SEGMENT + 10, DIM)).astype(np.float32)
    with psycopg.connect(own_server.dsn, autocommit=True) as conn:
        conn.execute(
            f"CREATE COLLECTION built (id BIGINT PRIMARY KEY, embedding VECTOR({DIM})) "
            f"WITH (segment_rows = {SEGMENT})"
        )
        conn.execute(
            "CREATE INDEX ON built USING hnsw (embedding) WITH (m = 48, ef_construction = 400)"
        )
        insert(conn, vectors, 0)
        seen = states(conn)
    assert ("building", "flat") in seen, seen  # the kill below lands during a build
    own_server.kill()
    own_server.start()
    with psycopg.connect(own_server.dsn, autocommit=True) as conn:
        for i in (0, SEGMENT + 1, 2 * SEGMENT + 5):
            rows = conn.execute(
                "SELECT id FROM built ORDER BY embedding <-> %s LIMIT 10", (text(vectors[i]),)
            ).fetchall()
            assert [r[0] for r in rows] == exact(vectors, vectors[i], 10)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and any(s == "building" for s, _ in states(conn)):
            time.sleep(0.2)
        assert states(conn) == [("sealed", "hnsw"), ("sealed", "hnsw"), ("growing", "flat")]
