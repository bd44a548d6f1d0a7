"""EXPLAIN output, compared with golden files (tests/golden/explain/<name>.txt).

Run with SQLVEC_UPDATE_GOLDEN=1 to rewrite them after an intended change of the plan text.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import numpy as np
import psycopg
import pytest

from sqlvec.testing import ServerProcess

GOLDEN = Path(__file__).parent.parent / "golden" / "explain"
STATEMENTS = {
    "exact": "EXPLAIN SELECT id FROM ex_plain ORDER BY embedding <-> '[0,0,0,1]' LIMIT 5",
    "hnsw": "EXPLAIN SELECT id, embedding <-> %s AS d FROM ex_hnsw ORDER BY d LIMIT 10",
    "filtered": "EXPLAIN SELECT id FROM ex_hnsw WHERE grp < 1 ORDER BY embedding <-> %s LIMIT 10",
    "partition": "EXPLAIN SELECT id FROM ex_hnsw PARTITION (p1) ORDER BY embedding <=> %s LIMIT 3",
    "lateral": "EXPLAIN SELECT q.id, r.id FROM ex_plain q CROSS JOIN LATERAL "
    "(SELECT id FROM ex_hnsw ORDER BY embedding <-> q.embedding LIMIT 2) r",
    "lateral_joined": "EXPLAIN SELECT q.id, count(*) FROM ex_plain q CROSS JOIN LATERAL "
    "(SELECT id FROM ex_hnsw WHERE grp < 5 ORDER BY embedding <-> q.embedding LIMIT 2) r "
    "GROUP BY q.id",
    "scalar": "EXPLAIN SELECT grp, count(*) FROM ex_hnsw GROUP BY grp",
    "range": "EXPLAIN SELECT id FROM ex_hnsw WHERE embedding <-> %(q)s < 1.5 "
    "AND grp < 5 ORDER BY embedding <-> %(q)s LIMIT 5",
    "partition_key": "EXPLAIN SELECT id FROM ex_key WHERE tenant IN ('a', 'b') AND grp > 2 "
    "ORDER BY embedding <-> %s LIMIT 3",
    "range_similarity": "EXPLAIN SELECT id FROM ex_plain WHERE 1 - (embedding <=> %s) >= 0.8",
    "search_subquery": "EXPLAIN SELECT grp, count(*) FROM (SELECT grp FROM ex_hnsw "
    "ORDER BY embedding <-> %s LIMIT 10) s GROUP BY grp",
    "search_outputs": "EXPLAIN SELECT id, abs(grp - 5) FROM ex_hnsw WHERE grp < 5 "
    "ORDER BY embedding <-> %s LIMIT 3",
}


def text(vector: np.ndarray) -> str:
    return "[" + ",".join(map(repr, vector.tolist())) + "]"


@pytest.fixture(scope="module")
def conn(server: ServerProcess) -> psycopg.Connection:
    connection = psycopg.connect(server.dsn, autocommit=True)
    vectors = np.random.default_rng(17).standard_normal((400, 4)).astype(np.float32)
    for name in ("ex_plain", "ex_hnsw"):
        connection.execute(f"DROP TABLE IF EXISTS {name}")
        connection.execute(
            f"CREATE COLLECTION {name} (id BIGINT PRIMARY KEY, grp INT, embedding VECTOR(4)) "
            "WITH (segment_rows = 150)"
        )
    connection.execute("CREATE PARTITION p1 ON ex_hnsw")
    connection.execute("DROP TABLE IF EXISTS ex_key")
    connection.execute(
        "CREATE COLLECTION ex_key (id BIGINT PRIMARY KEY, grp INT, tenant TEXT, "
        "embedding VECTOR(4)) WITH (partition_key = 'tenant', num_partitions = 8)"
    )
    tenants = ", ".join(
        f"({i}, {i % 10}, '{'abcd'[i % 4]}', '{text(v)}')" for i, v in enumerate(vectors)
    )
    connection.execute(f"INSERT INTO ex_key VALUES {tenants}")
    rows = ", ".join(f"({i}, {i % 10}, '{text(v)}')" for i, v in enumerate(vectors))
    connection.execute(f"INSERT INTO ex_hnsw VALUES {rows}")
    connection.execute(f"INSERT INTO ex_plain VALUES {rows.split('), (')[0]})")
    connection.execute("CREATE INDEX ON ex_hnsw USING hnsw (embedding) WITH (m = 8)")
    yield connection
    connection.close()


@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_explain_matches_golden_text(conn: psycopg.Connection, name: str) -> None:
    sql = STATEMENTS[name]
    params: object = ("[1,0,0,0]",) if "%s" in sql else None
    if "%(q)s" in sql:  # one parameter used twice: $1 in both places
        params = {"q": "[1,0,0,0]"}
    plan = "\n".join(row[0] for row in conn.execute(sql, params).fetchall()) + "\n"
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("SQLVEC_UPDATE_GOLDEN"):
        path.write_text(plan)
    assert plan == path.read_text()


def analyzed_with_recall(conn: psycopg.Connection, sql: str) -> list[str]:
    """The lines of `EXPLAIN ANALYZE <sql>` with `explain_recall` on for it alone."""
    conn.execute("SET explain_recall = on")
    try:
        return [row[0] for row in conn.execute(f"EXPLAIN ANALYZE {sql}").fetchall()]
    finally:
        conn.execute("RESET explain_recall")


def test_explain_analyze_reports_rows_time_and_recall(conn: psycopg.Connection) -> None:
    lines = analyzed_with_recall(
        conn, "SELECT id FROM ex_hnsw ORDER BY embedding <-> '[1,0,0,0]' LIMIT 10"
    )
    assert "Actual: 10 rows" in lines
    assert any(re.fullmatch(r"Execution Time: \d+\.\d{3} ms", line) for line in lines)
    recall = [line for line in lines if line.startswith("Recall@10")]
    assert recall and float(recall[0].rsplit(" ", 1)[1]) >= 0.9


def test_explain_analyze_measures_each_search_of_a_statement(conn: psycopg.Connection) -> None:
    lines = analyzed_with_recall(
        conn,
        "SELECT grp, count(*) FROM (SELECT grp FROM ex_hnsw ORDER BY "
        "embedding <-> '[1,0,0,0]' LIMIT 10) a JOIN (SELECT grp FROM ex_hnsw ORDER BY "
        "embedding <-> '[0,1,0,0]' LIMIT 10) b USING (grp) GROUP BY grp",
    )
    assert lines[0] == "DuckDB Query over vector searches' rows"
    recalls = {
        line.split()[2]: float(line.rsplit(" ", 1)[1])
        for line in lines
        if line.startswith("Recall of ")
    }
    assert set(recalls) == {"sqlvec_search", "sqlvec_search_1"}
    assert all(recall >= 0.9 for recall in recalls.values())


def test_explain_shows_a_filters_own_index_once_it_is_built(conn: psycopg.Connection) -> None:
    """A filter that came back often is searched through its own index (filter_indexes):
    EXPLAIN says so from the moment the index is ready, and not before."""
    rows = 12_000  # one sealed segment; the filter allows 1200 rows (filter indexes need 1000)
    conn.execute("DROP TABLE IF EXISTS ex_repeat")
    conn.execute(
        "CREATE COLLECTION ex_repeat (id BIGINT PRIMARY KEY, grp INT, embedding VECTOR(4)) "
        f"WITH (segment_rows = {rows})"
    )
    vectors = np.random.default_rng(18).standard_normal((rows, 4)).astype(np.float32)
    values = ", ".join(f"({i}, {i % 10}, '{text(v)}')" for i, v in enumerate(vectors))
    conn.execute(f"INSERT INTO ex_repeat VALUES {values}")
    conn.execute("CREATE INDEX ON ex_repeat USING hnsw (embedding) WITH (m = 8)")
    search = "SELECT id FROM ex_repeat WHERE grp = 1 ORDER BY embedding <-> %s LIMIT 10"

    def plan() -> str:
        return "\n".join(row[0] for row in conn.execute("EXPLAIN " + search, ("[1,0,0,0]",)))

    assert "Filter indexes" not in plan()
    for vector in vectors[:8]:
        found = conn.execute(search, (text(vector),)).fetchall()
        assert len(found) == 10 and all(row[0] % 10 == 1 for row in found)
    deadline = time.monotonic() + 30
    while "Filter indexes" not in plan() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert (
        "    Filter indexes: 1 of 1 indexed segments searched through this filter's own index "
        "(built after repeated use), without the selector or the widening"
    ) in plan().splitlines()
    # Another filter value has no index of its own.
    other = "\n".join(
        r[0] for r in conn.execute("EXPLAIN " + search.replace("= 1", "= 2"), ("[1,0,0,0]",))
    )
    assert "Strategy: index search with an ID selector" in other
    assert "Filter indexes" not in other


def test_explain_shows_the_parameters_a_filter_widens(conn: psycopg.Connection) -> None:
    """The filtered search looks further than the session's setting: EXPLAIN says how far
    (an IVF index's nprobe here; HNSW's ef_search in the golden file `filtered`), and an
    nprobe the session sets is shown as it is, not widened."""
    conn.execute("DROP TABLE IF EXISTS ex_ivf")
    conn.execute(
        "CREATE COLLECTION ex_ivf (id BIGINT PRIMARY KEY, grp INT, embedding VECTOR(4)) "
        "WITH (segment_rows = 400)"
    )
    vectors = np.random.default_rng(19).standard_normal((400, 4)).astype(np.float32)
    values = ", ".join(f"({i}, {i % 10}, '{text(v)}')" for i, v in enumerate(vectors))
    conn.execute(f"INSERT INTO ex_ivf VALUES {values}")
    conn.execute("CREATE INDEX ON ex_ivf USING ivf_flat (embedding) WITH (nlist = 4)")
    search = "SELECT id FROM ex_ivf WHERE grp = 1 ORDER BY embedding <-> %s LIMIT 10"

    def line(label: str) -> str:
        lines = [row[0] for row in conn.execute("EXPLAIN " + search, ("[1,0,0,0]",))]
        return next(line.strip() for line in lines if label in line)

    def strategy() -> str:
        return line("Strategy:")

    # The default nprobe (16) beyond the index's 4 lists: Faiss searches the 4.
    assert line("Index:").endswith("; search nprobe=4 (every list)")
    assert strategy() == (
        "Strategy: index search with an ID selector of the matching rows, nprobe 16 widened to "
        "160 (at most every list); redone exactly if it comes back short"
    )
    assert len(conn.execute(search, ("[1,0,0,0]",)).fetchall()) == 10  # every list searched
    conn.execute("SET nprobe = 2")
    try:
        assert line("Index:").endswith("; search nprobe=2")
        assert strategy() == (
            "Strategy: index search with an ID selector of the matching rows; "
            "redone exactly if it comes back short"
        )
    finally:
        conn.execute("RESET nprobe")


def test_a_filter_under_an_index_of_another_distance_is_searched_exactly(
    conn: psycopg.Connection,
) -> None:
    """ex_hnsw's index serves L2: a cosine search with a filter scans the matching rows."""
    plan = [
        row[0]
        for row in conn.execute(
            "EXPLAIN SELECT id FROM ex_hnsw WHERE grp < 1 ORDER BY embedding <=> %s LIMIT 10",
            ("[1,0,0,0]",),
        )
    ]
    assert "  Index: none, exact search (the index serves another distance)" in plan
    assert (
        "    Strategy: exact search over the matching rows; redone exactly if it comes back short"
        in plan
    )
