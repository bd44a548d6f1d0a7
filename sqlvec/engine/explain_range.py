"""EXPLAIN of a range search (`WHERE e <-> q < r`): the bound, and how each segment is read."""

from __future__ import annotations

from dataclasses import replace

from sqlvec.engine.engine import Engine
from sqlvec.engine.partition_key import key_column, num_partitions, searched_partitions
from sqlvec.engine.range_run import range_request
from sqlvec.engine.range_search import RANGE_INDEX_TYPES
from sqlvec.engine.segment_search import EXACT_BELOW_SELECTIVITY
from sqlvec.engine.vector_index import DEFAULT_NPROBE, SearchSettings
from sqlvec.planner.plans import Params, VectorRangePlan, VectorTopKPlan

OPERATORS = {"l2": "<->", "ip": "<#>", "cosine": "<=>", "l1": "<+>"}


def range_lines(
    engine: Engine, plan: VectorRangePlan, params: Params, settings: SearchSettings
) -> list[str]:
    search = plan.search
    collection = engine.collection(search.collection)
    request, _, limit, bound = range_request(engine, plan, params, settings)
    operator = OPERATORS[search.metric]
    query = "(subquery)" if search.query_sql is not None else "query vector"
    radius = "NULL (no row)" if bound is None else f"{bound.radius:g}"
    lines = [f"Vector Range Search on {search.collection}"]
    inclusive = plan.comparison in ("<=", ">=")
    within = f"{'<=' if inclusive else '<'} {radius}"
    lines.append(f"  Range: {search.column} {operator} {query} {within}")
    order = "DESC" if search.descending else "ASC"
    lines.append(f"  Order: {f'distance {order}' if plan.ordered else 'none (any order)'}")
    lines.append(f"  Limit: {limit if limit is not None else 'all rows in range'}")
    lines.append(partitions_line(engine, search, params))
    definition = collection.indexes.get(search.column)
    if definition is None or definition.metric != search.metric:
        reason = "no index" if definition is None else "the index serves another distance"
        lines.append(f"  Index: none, exact scan ({reason})")
    elif definition.type in RANGE_INDEX_TYPES:
        nprobe = settings.nprobe or DEFAULT_NPROBE
        probes = "" if definition.type == "flat" else f", nprobe={nprobe}"
        lines.append(f"  Index: {definition.type} {definition.name}; Faiss range_search{probes}")
    else:
        lines.append(
            f"  Index: {definition.type} {definition.name} has no complete range search; "
            "its segments are scanned exactly"
        )
    segments = [s for p in collection.selected(request.partitions) for s in p.sealed]
    built = sum(1 for s in segments if search.column in s.indexes)
    lines.append(
        f"  Segments: {len(segments)} sealed ({built} with an index), growing scanned exactly"
    )
    if search.filter is not None:
        count = len(request.candidates) if request.candidates is not None else 0
        total = max(engine.row_count(search.collection), 1)
        selectivity = count / total
        how = (
            "exact scan of the matching rows"
            if selectivity < EXACT_BELOW_SELECTIVITY
            else "range search restricted to the matching rows"
        )
        lines.append("  Filter: DuckDB selects the matching ids")
        lines.append(f"    Estimate: {count} of {total} rows (selectivity {selectivity:.3f})")
        lines.append(f"    Strategy: {how}")
    return lines


def range_recall(
    engine: Engine, plan: VectorRangePlan, params: Params, settings: SearchSettings
) -> tuple[int, int]:
    """(rows the search found that exact search also finds, rows exact search finds)."""
    request, _, _, bound = range_request(engine, plan, params, settings)
    if bound is None:
        return 0, 0
    name = plan.search.collection
    found = engine.range_search(name, request, bound, None).positions
    exact = engine.range_search(name, replace(request, exact=True), bound, None).positions
    return len(set(found.tolist()) & set(exact.tolist())), len(exact)


def partitions_line(engine: Engine, plan: VectorTopKPlan, params: Params) -> str:
    """The partitions a search covers, and why: all, listed, or pruned by the partition key."""
    collection = engine.collection(plan.collection)
    names = searched_partitions(engine, plan, params)
    if names is None:
        return f"  Partitions: {', '.join(sorted(collection.partitions))} (all)"
    if plan.key_values is None:
        return f"  Partitions: {', '.join(names)} (listed)"
    key = key_column(collection.spec)
    total = num_partitions(collection.spec)
    return (
        f"  Partitions: {', '.join(names) or 'none'} (pruned by partition key {key}: "
        f"{len(names)} of {total})"
    )
