"""Benchmark scenarios. `python -m benchmarks.run [scenario ...] [--quick] [--rows N --dim D
--queries Q --restart-rows N --restarts R --restart-dir DIR --pgvector-uri URI --copy-rows N
--copy-dim D]`; one JSON line per measurement.

`vs_pgvector` measures pgvector beside sqlvec when SQLVEC_PGVECTOR_PYTHON names a python with
pgserver installed (or --pgvector-uri is given); otherwise it says that pgvector was skipped."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.common import Row
from benchmarks.copy_binary import copy_binary
from benchmarks.hnsw_layout import hnsw_layout
from benchmarks.index_types import index_types
from benchmarks.knn import knn_exact_prepared
from benchmarks.prepared_path import prepared_path
from benchmarks.restart import restart_hnsw
from benchmarks.search_subquery import search_subquery
from benchmarks.transport_floor import transport_floor
from benchmarks.vs_pgvector import vs_pgvector


@dataclass(frozen=True)
class Scenario:
    run: Callable[[argparse.Namespace], list[Row]]
    queries: int  # default query count


SCENARIOS: dict[str, Scenario] = {
    "knn_exact_prepared": Scenario(knn_exact_prepared, queries=500),
    "index_types": Scenario(index_types, queries=200),
    "restart_hnsw": Scenario(restart_hnsw, queries=0),  # times one query per restart
    "vs_pgvector": Scenario(vs_pgvector, queries=500),
    "copy_binary": Scenario(copy_binary, queries=0),  # loads only
    "transport_floor": Scenario(transport_floor, queries=0),  # round trips of a do-nothing server
    "hnsw_layout": Scenario(hnsw_layout, queries=1000),  # in-process: no server
    "search_subquery": Scenario(search_subquery, queries=100),  # GROUP BY over a kNN subquery
    "prepared_path": Scenario(prepared_path, queries=1000),  # in-process: no socket
}
# (full, --quick) defaults of the size options.
SIZES = {
    "rows": (100_000, 20_000),
    "restart_rows": (1_000_000, 100_000),
    "restarts": (5, 2),
    "copy_rows": (200_000, 20_000),
}
QUICK_QUERIES = 100


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(description=__doc__)
    parse.add_argument("scenario", nargs="*", help=f"any of {', '.join(SCENARIOS)} (all)")
    parse.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parse.add_argument("--rows", type=int, help="rows loaded over the wire (100000; quick 20000)")
    parse.add_argument("--dim", type=int, default=128)
    parse.add_argument("--queries", type=int, help="queries timed (500; index_types 200)")
    parse.add_argument("--restart-rows", type=int, help="restart_hnsw rows (1000000; quick 100000)")
    parse.add_argument("--restarts", type=int, help="restart_hnsw restarts measured (5; quick 2)")
    parse.add_argument("--restart-dir", help="keep restart_hnsw's data here and reuse it later")
    parse.add_argument(
        "--pgvector-uri",
        help="vs_pgvector: a running Postgres with pgvector (its tables docs and queries are "
        "replaced); default: start one from SQLVEC_PGVECTOR_PYTHON's pgserver, else skip",
    )
    parse.add_argument("--copy-rows", type=int, help="copy_binary rows (200000; quick 20000)")
    parse.add_argument("--copy-dim", type=int, default=384, help="copy_binary dimension (384)")
    return parse


def resolved(args: argparse.Namespace, scenario: Scenario) -> argparse.Namespace:
    """The options with each unset size at its default (full or --quick)."""
    values = dict(vars(args))
    for name, (full, quick) in SIZES.items():
        if values[name] is None:
            values[name] = quick if args.quick else full
    if values["queries"] is None:
        values["queries"] = min(QUICK_QUERIES, scenario.queries) if args.quick else scenario.queries
    return argparse.Namespace(**values)


def main(argv: list[str] | None = None) -> int:
    parse = parser()
    args = parse.parse_args(argv)
    unknown = [name for name in args.scenario if name not in SCENARIOS]
    if unknown:
        parse.error(f"unknown scenario {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    for name in args.scenario or SCENARIOS:
        scenario = SCENARIOS[name]
        for line in scenario.run(resolved(args, scenario)):
            print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
