"""`vs_pgvector`'s second layout: the same rows stored partitioned by `category`.

sqlvec uses Milvus' partition key (`WITH (partition_key = 'category')`: rows hashed into 16
partitions, one HNSW index each; categories 0..9 land in ten different ones), pgvector
PostgreSQL's declarative partitioning (`PARTITION BY LIST (category)`, one partition per
category; `CREATE INDEX ... USING hnsw` on the parent builds one per partition). A search with
`WHERE category = $1` then reads one partition's index in both: what a user who filters on a
low-cardinality column would build in either system. Same queries, same exact answers.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import psycopg

from benchmarks.common import Row, vector_text

TABLE = "docs_by_category"
HNSW_WITH = "WITH (m = 16, ef_construction = 64)"


def load_sqlvec(
    conn: psycopg.Connection, dim: int, insert: Callable[[str], float]
) -> dict[str, float]:
    """The collection with a partition key, filled by `insert(table)`; load and build seconds."""
    conn.execute(
        f"CREATE COLLECTION {TABLE} (id BIGINT PRIMARY KEY, category INT, "
        f"embedding VECTOR({dim})) WITH (metric = 'l2', partition_key = 'category')"
    )
    load_s = insert(TABLE)
    started = time.perf_counter()
    conn.execute(f"CREATE INDEX ON {TABLE} USING hnsw (embedding) {HNSW_WITH}")
    return {"load_s": round(load_s, 2), "index_build_s": round(time.perf_counter() - started, 2)}


def load_pgvector(
    conn: psycopg.Connection, rows: np.ndarray, categories: np.ndarray
) -> dict[str, float]:
    """A list-partitioned table, one partition per category, COPYed; one HNSW per partition."""
    conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    conn.execute(
        f"CREATE TABLE {TABLE} (id BIGINT, category INT, embedding vector({rows.shape[1]}), "
        "PRIMARY KEY (category, id)) PARTITION BY LIST (category)"
    )
    for category in np.unique(categories).tolist():
        conn.execute(
            f"CREATE TABLE {TABLE}_{category} PARTITION OF {TABLE} FOR VALUES IN ({category})"
        )
    started = time.perf_counter()
    with (
        conn.cursor() as cur,
        cur.copy(f"COPY {TABLE} (id, category, embedding) FROM STDIN") as copy,
    ):
        for row, vector in enumerate(rows):
            copy.write_row((row, int(categories[row]), vector_text(vector)))
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    conn.execute(f"CREATE INDEX ON {TABLE} USING hnsw (embedding vector_l2_ops) {HNSW_WITH}")
    build_s = time.perf_counter() - started
    conn.execute(f"VACUUM ANALYZE {TABLE}")
    return {"load_s": round(load_s, 2), "index_build_s": round(build_s, 2)}


def load_line(system: str, base: Row, loaded: dict[str, float], layout: str) -> Row:
    return {**base, "system": system, "measure": "load", "table": TABLE, "layout": layout, **loaded}
