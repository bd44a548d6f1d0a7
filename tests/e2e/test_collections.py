"""Milvus' model over the wire: notices for short results, search settings, ANALYZE, stats."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest
from psycopg import errors

from sqlvec.testing import ServerProcess


def text(vector: np.ndarray) -> str:
    return "[" + ",".join(map(repr, vector.tolist())) + "]"


@pytest.fixture
def coll(server: ServerProcess) -> psycopg.Connection:
    conn = psycopg.connect(server.dsn, autocommit=True)
    conn.execute("DROP TABLE IF EXISTS mc")
    conn.execute(
        "CREATE COLLECTION mc (id BIGINT PRIMARY KEY, embedding VECTOR(4)) WITH (segment_rows = 50)"
    )
    vectors = np.random.default_rng(8).standard_normal((120, 4)).astype(np.float32)
    values = ", ".join(f"({i}, '{text(v)}')" for i, v in enumerate(vectors))
    conn.execute(f"INSERT INTO mc (id, embedding) VALUES {values}")
    yield conn
    conn.close()


def test_fewer_rows_than_k_come_with_a_notice(coll: psycopg.Connection) -> None:
    notices: list[str] = []
    coll.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
    coll.execute("CREATE PARTITION tiny ON mc")
    coll.execute("INSERT INTO mc PARTITION (tiny) VALUES (1000, '[0,0,0,1]'), (1001, '[0,0,1,0]')")
    rows = coll.execute(
        "SELECT id FROM mc PARTITION (tiny) ORDER BY embedding <-> '[0,0,0,1]' LIMIT 10"
    ).fetchall()
    assert rows == [(1000,), (1001,)]
    assert any("2 of 10" in message for message in notices)


def test_search_settings_are_checked_and_scoped(coll: psycopg.Connection) -> None:
    coll.execute("CREATE INDEX ON mc USING ivf_flat (embedding) WITH (nlist = 4)")
    with pytest.raises(errors.InvalidParameterValue):
        coll.execute("SET ivfflat.probes = 0")
    coll.execute("SET nprobe = 8")
    with pytest.raises(errors.InvalidParameterValue, match="nprobe = 8"):
        coll.execute("SELECT id FROM mc ORDER BY embedding <-> '[1,1,1,1]' LIMIT 3")
    coll.execute("BEGIN")
    coll.execute("SET LOCAL nprobe = 4")
    assert (
        len(coll.execute("SELECT id FROM mc ORDER BY embedding <-> '[1,1,1,1]' LIMIT 3").fetchall())
        == 3
    )
    coll.execute("COMMIT")
    assert coll.execute("SHOW nprobe").fetchone() == ("8",)
    coll.execute("RESET nprobe")
    assert coll.execute("SHOW ivfflat.probes").fetchone() == ("16",)


def test_stats_and_analyze(coll: psycopg.Connection) -> None:
    coll.execute("DELETE FROM mc WHERE id < 5")
    stats = coll.execute(
        "SELECT state, row_count, deleted_count FROM sqlvec_collection_stats('mc') ORDER BY segment"
    ).fetchall()
    assert stats == [("sealed", 45, 5), ("sealed", 50, 0), ("growing", 20, 0)]
    findings = {row[2]: row[3] for row in coll.execute("ANALYZE mc").fetchall()}
    assert findings["rows"] == "115"
    assert findings["zero vectors"] == "0"
    assert findings["normalized"] == "no"
    with pytest.raises(errors.UndefinedTable):
        coll.execute("SELECT * FROM sqlvec_collection_stats('nope')")
