"""`search_subquery`: SQL around a kNN search (GROUP BY over a kNN subquery), over the wire.

    SELECT category, count(*) FROM (
        SELECT category FROM bench ORDER BY embedding <-> $1 LIMIT 100) s GROUP BY category

Four lines on one loaded collection of clustered vectors (vs_pgvector's data; HNSW m 16,
ef_construction 64, ef_search 64, which a search of 100 rows raises to 100), each a prepared
statement timed over the same queries:

- `search_then_duckdb`: the statement above (since 0.3.6 the search takes the index and DuckDB
  groups its 100 rows);
- `duckdb_exact`: the same statement with a second sort key (`ORDER BY embedding <-> $1, id`),
  which DuckDB runs whole, computing every row's distance: the plan 0.3.5 had for it;
- `search_alone`: the inner search by itself (what the grouping adds is the difference);
- `faiss_in_process`: raw Faiss, the same HNSW parameters and k, plus numpy's bincount.

Recall@100 of the search's rows against exact search, and whether the grouped counts are those
of the search's own rows, are reported beside the timings.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import psycopg

from benchmarks.common import Row, timed, vector_text
from benchmarks.vs_pgvector import clustered
from sqlvec.engine.faiss_setup import faiss
from sqlvec.testing import ServerProcess

SCENARIO = "search_subquery"
LIMIT = 100
CATEGORIES = 10
EF_SEARCH = 64
INNER = "SELECT {column} FROM bench ORDER BY embedding <-> %s{tie} LIMIT 100"
GROUPED = "SELECT category, count(*) FROM ({inner}) s GROUP BY category ORDER BY category"


def search_subquery(args: argparse.Namespace) -> list[Row]:
    data = clustered(args.rows, args.dim, seed=1)
    queries = clustered(args.queries, args.dim, seed=2)
    texts = [vector_text(q) for q in queries]
    categories = np.arange(args.rows) % CATEGORIES
    exact = faiss.knn(queries, data, LIMIT)[1]
    base: Row = {"scenario": SCENARIO, "rows": args.rows, "dim": args.dim, "limit": LIMIT}
    lines = [_faiss_line(base, data, queries, categories, exact)]
    with tempfile.TemporaryDirectory() as scratch:
        server = ServerProcess(Path(scratch) / "data").start()
        try:
            with psycopg.connect(server.dsn, autocommit=True) as conn:
                _load(conn, data, categories)
                conn.execute(f"SET ef_search = {EF_SEARCH}")
                lines += _wire_lines(base, conn, texts, categories, exact)
        finally:
            server.stop()
    return lines


def _wire_lines(
    base: Row, conn: psycopg.Connection, texts: list[str], categories: np.ndarray, exact: np.ndarray
) -> list[Row]:
    def statement(sql: str) -> object:
        return lambda text: conn.execute(sql, (text,), prepare=True).fetchall()

    searched = INNER.format(column="id", tie="")
    grouped = GROUPED.format(inner=INNER.format(column="category", tie=""))
    exact_grouped = GROUPED.format(inner=INNER.format(column="category", tie=", id"))
    alone_stats, alone = timed(statement(searched), texts)  # type: ignore[arg-type]
    ids = [[row[0] for row in rows] for rows in alone]
    stats, answers = timed(statement(grouped), texts)  # type: ignore[arg-type]
    exact_stats, _ = timed(statement(exact_grouped), texts)  # type: ignore[arg-type]
    expected = [_grouped(categories[found]) for found in ids]
    plan = [row[0] for row in conn.execute(f"EXPLAIN {grouped}", (texts[0],)).fetchall()]
    return [
        {
            **base,
            "system": "sqlvec",
            "measure": "search_alone",
            **alone_stats,
            "recall_at_100": _recall(ids, exact),
        },
        {
            **base,
            "system": "sqlvec",
            "measure": "search_then_duckdb",
            **stats,
            "matches_search_rows": [list(map(tuple, a)) for a in answers] == expected,
            "plan": plan[0],
            "ratio_vs_duckdb_exact_qps": round(stats["qps"] / exact_stats["qps"], 1),
        },
        {**base, "system": "sqlvec", "measure": "duckdb_exact", **exact_stats},
    ]


def _faiss_line(
    base: Row, data: np.ndarray, queries: np.ndarray, categories: np.ndarray, exact: np.ndarray
) -> Row:
    index = faiss.IndexHNSWFlat(data.shape[1], 16)
    index.hnsw.efConstruction = 64
    index.add(data)
    index.hnsw.efSearch = max(EF_SEARCH, LIMIT)  # as sqlvec searches: ef_search is at least k

    def one(query: np.ndarray) -> list[int]:
        found = index.search(query.reshape(1, -1), LIMIT)[1][0]
        np.bincount(categories[found], minlength=CATEGORIES)
        return found.tolist()

    stats, answers = timed(one, queries)
    return {
        **base,
        "system": "faiss_in_process",
        "measure": "hnsw_then_bincount",
        **stats,
        "recall_at_100": _recall(answers, exact),
    }


def _load(conn: psycopg.Connection, data: np.ndarray, categories: np.ndarray) -> None:
    conn.execute("DROP TABLE IF EXISTS bench")
    dim = data.shape[1]
    conn.execute(
        f"CREATE TABLE bench (id BIGINT PRIMARY KEY, category INT, embedding vector({dim}))"
    )
    with conn.cursor().copy("COPY bench (id, category, embedding) FROM STDIN") as copy:
        for i, vector in enumerate(data):
            copy.write_row((i, int(categories[i]), vector_text(vector)))
    conn.execute("CREATE INDEX ON bench USING hnsw (embedding) WITH (m = 16, ef_construction = 64)")
    conn.execute("FLUSH bench")
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        states = conn.execute("SELECT state FROM sqlvec_collection_stats('bench')").fetchall()
        if ("building",) not in states:
            return
        time.sleep(0.2)
    raise RuntimeError("the index was not built in 10 minutes")


def _grouped(found: np.ndarray) -> list[tuple[int, int]]:
    counts = np.bincount(found, minlength=CATEGORIES)
    return [(int(c), int(n)) for c, n in enumerate(counts) if n]


def _recall(answers: list[list[int]], exact: np.ndarray) -> float:
    hits = [
        len(set(found) & set(truth.tolist())) for found, truth in zip(answers, exact, strict=True)
    ]
    return round(float(np.mean(hits)) / LIMIT, 4)
