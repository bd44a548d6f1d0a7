"""EXPLAIN [ANALYZE]: a plan as text, with what the engine decides at run time.

The text is stable (tests compare it with golden files): one node per line, details indented
under it. EXPLAIN ANALYZE runs the statement and adds rows and time; with
`SET explain_recall = on`, a vector search is also run exactly and its recall reported.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np

from sqlvec.engine.engine import Engine
from sqlvec.engine.explain_range import partitions_line, range_lines, range_recall
from sqlvec.engine.index_types import IndexDef
from sqlvec.engine.outcome import Outcome
from sqlvec.engine.partition_key import searched_partitions
from sqlvec.engine.range_run import range_applies
from sqlvec.engine.row_filter import matching_positions
from sqlvec.engine.segment_search import EXACT_BELOW_SELECTIVITY, selector_serves, widened
from sqlvec.engine.topk import search_request
from sqlvec.engine.vector_index import DEFAULT_EF_SEARCH, DEFAULT_NPROBE, SearchSettings
from sqlvec.planner.plans import (
    BatchTopKPlan,
    DuckPlan,
    InsertPlan,
    OutputColumn,
    Params,
    SearchSubqueryPlan,
    VectorRangePlan,
    VectorTopKPlan,
    search_relation,
)
from sqlvec.types import TEXT

COLUMNS = [OutputColumn("QUERY PLAN", TEXT)]
OPERATORS = {
    "l2": "<->",
    "ip": "<#>",
    "cosine": "<=>",
    "l1": "<+>",
    "hamming": "<~>",
    "jaccard": "<%>",
}


def explain_lines(
    engine: Engine, node: object, params: Params, settings: SearchSettings
) -> list[str]:
    if isinstance(node, VectorTopKPlan):
        return _topk_lines(engine, node, params, settings)
    if isinstance(node, VectorRangePlan):
        if not range_applies(engine, node, params):  # two different query vectors
            return explain_lines(engine, node.fallback, params, settings)
        return range_lines(engine, node, params, settings)
    if isinstance(node, BatchTopKPlan):
        outer = engine.run_sql(f"SELECT count(*) FROM ({node.outer.sql})", node.outer.bind(params))
        count = outer.rows[0][0]
        queries = f"{count} quer{'y' if count == 1 else 'ies'}"
        lines = [f"Batched Vector Search: {queries} in one search per segment"]
        lines += ["  " + line for line in _topk_lines(engine, node.inner, params, settings)]
        if node.direct is not None:
            lines.append("  Output: each outer row with its results, nearest first (no join)")
        else:
            lines.append("  Join: DuckDB, outer rows with their results")
        return lines
    if isinstance(node, SearchSubqueryPlan):
        searches = "a vector search's rows" if len(node.searches) == 1 else "vector searches' rows"
        lines = [f"DuckDB Query over {searches}", f"  SQL: {node.final.query.sql}"]
        for i, search in enumerate(node.searches):
            lines.append(f"  {search_relation(i)}:")
            lines += ["    " + line for line in _topk_lines(engine, search, params, settings)]
        return lines
    if isinstance(node, DuckPlan):
        return ["DuckDB Query", f"  SQL: {node.query.sql}"]
    if isinstance(node, InsertPlan):
        if node.source is None:
            return [f"Insert on {node.collection}", f"  Rows: {len(node.rows)}"]
        source = explain_lines(engine, node.source, params, settings)
        return [f"Insert on {node.collection}", *("  " + line for line in source)]
    return [type(node).__name__.removesuffix("Plan")]


def explain_analyze(
    engine: Engine,
    node: object,
    params: Params,
    settings: SearchSettings,
    run: Any,
    measure_recall: bool,
) -> list[str]:
    lines = explain_lines(engine, node, params, settings)
    started = time.perf_counter()
    outcome: Outcome = run()
    elapsed = (time.perf_counter() - started) * 1000
    lines.append(f"Actual: {len(outcome.rows)} rows")
    lines.append(f"Execution Time: {elapsed:.3f} ms")
    if measure_recall and isinstance(node, VectorTopKPlan):
        recall = _recall(engine, node, params, settings)
        lines.append(f"Recall@{len(outcome.rows)} against exact search: {recall:.3f}")
    if measure_recall and isinstance(node, SearchSubqueryPlan):
        for i, search in enumerate(node.searches):
            recall = _recall(engine, search, params, settings)
            lines.append(f"Recall of {search_relation(i)} against exact search: {recall:.3f}")
    if measure_recall and isinstance(node, VectorRangePlan) and range_applies(engine, node, params):
        found, exact = range_recall(engine, node, params, settings)
        lines.append(f"Recall against exact search: {found} of {exact} rows in range")
    return lines


def _topk_lines(
    engine: Engine, plan: VectorTopKPlan, params: Params, settings: SearchSettings
) -> list[str]:
    collection = engine.collection(plan.collection)
    order = "DESC" if plan.descending else "ASC"
    query = "(subquery)" if plan.query_sql is not None else "query vector"
    lines = [f"Vector Search on {plan.collection}"]
    lines.append(f"  Order: {plan.column} {OPERATORS[plan.metric]} {query} {order}")
    limit = plan.limit(params) if plan.limit is not None else None
    lines.append(f"  Top-K: {limit if limit is not None else 'all rows'}")
    lines.append(partitions_line(engine, plan, params))
    definition = collection.indexes.get(plan.column)
    if definition is None or definition.metric != plan.metric or plan.descending:
        reason = "no index" if definition is None else "the index serves another distance"
        lines.append(
            f"  Index: none, exact search ({'descending order' if plan.descending else reason})"
        )
        definition = None  # the filter's strategy is then exact too
    else:
        lines.append(f"  Index: {_index_text(definition, settings)}")
    segments = [
        s for p in collection.selected(searched_partitions(engine, plan, params)) for s in p.sealed
    ]
    built = sum(1 for s in segments if plan.column in s.indexes)
    lines.append(
        f"  Segments: {len(segments)} sealed ({built} with an index), growing searched exactly"
    )
    if plan.filter is not None:
        lines.extend(_filter_lines(engine, plan, params, definition, settings, limit))
    return lines


def _index_text(definition: IndexDef, settings: SearchSettings) -> str:
    params = ", ".join(f"{k}={v}" for k, v in sorted(definition.params.items()))
    if definition.type in ("ivf_flat", "ivf_sq8", "ivf_pq"):
        search = _nprobe_text(definition, settings)
    else:
        search = {
            "hnsw": f"ef_search={settings.ef_search or DEFAULT_EF_SEARCH}",
            "nsg": f"search_length={settings.search_length or 40}",
        }.get(definition.type, "exhaustive")
    return f"{definition.type} {definition.name} ({params}); search {search}"


def _nprobe_text(definition: IndexDef, settings: SearchSettings) -> str:
    """The nprobe searched: the default beyond the index's lists searches every list (an
    nprobe the user sets beyond them is an error, see segment_search)."""
    nprobe = settings.nprobe or DEFAULT_NPROBE
    lists = int(definition.params.get("nlist", nprobe))
    return f"nprobe={nprobe}" if nprobe <= lists else f"nprobe={lists} (every list)"


def _filter_lines(
    engine: Engine,
    plan: VectorTopKPlan,
    params: Params,
    definition: IndexDef | None,
    settings: SearchSettings,
    limit: int | None,
) -> list[str]:
    assert plan.filter is not None
    indexed = definition is not None
    matching = None
    if plan.row_filter is not None:
        rows = engine.collection(plan.collection).rows
        live = ~rows.deleted_mask()
        matching = matching_positions(rows, plan.row_filter, params, len(live))
        count = int(live[matching].sum())
        how = "evaluated over the in-memory columns"
    else:
        count_sql = f"SELECT count(*) FROM ({plan.filter.sql})"
        found = engine.run_sql(count_sql, plan.filter.bind(params))
        count = int(found.rows[0][0])
        how = "DuckDB selects the matching ids"
    total = max(engine.row_count(plan.collection), 1)
    selectivity = count / total
    selector = indexed and selector_serves(selectivity)
    if not indexed or selectivity < EXACT_BELOW_SELECTIVITY:
        strategy = "exact search over the matching rows"
    elif selector:
        strategy = "index search with an ID selector of the matching rows"
    else:
        strategy = "index search, over-fetching and dropping rows that do not match"
    if definition is not None and selectivity >= EXACT_BELOW_SELECTIVITY:
        strategy += _widening(definition, settings, selectivity, limit or 1)
    lines = [
        f"  Filter: {how}",
        f"    Estimate: {count} of {total} rows (selectivity {selectivity:.3f})",
        f"    Strategy: {strategy}; redone exactly if it comes back short",
    ]
    if matching is not None and selector:
        lines += _filter_index_lines(engine, plan, params, matching)
    return lines


def _widening(definition: IndexDef, settings: SearchSettings, selectivity: float, k: int) -> str:
    """How much further a filtered index search looks than an unfiltered one
    (`segment_search.widened`): the parameters it really searches with."""
    wide = widened(settings, selectivity, k)
    if definition.type == "hnsw":
        ef = max(settings.ef_search or DEFAULT_EF_SEARCH, k)
        return f", ef_search {ef} widened to {wide.ef_search}"
    if definition.type.startswith("ivf") and settings.nprobe is None:
        return f", nprobe {DEFAULT_NPROBE} widened to {wide.nprobe} (at most every list)"
    return ""


def _filter_index_lines(
    engine: Engine, plan: VectorTopKPlan, params: Params, matching: np.ndarray
) -> list[str]:
    """Which segments this filter searches through its own index (filter_indexes: built once
    the filter has come back often), instead of the ID selector."""
    collection = engine.collection(plan.collection)
    selected = collection.selected(searched_partitions(engine, plan, params))
    segments = [s for p in selected for s in p.sealed if plan.column in s.indexes]
    ready = collection.filter_indexes.count_ready(
        collection.rows.version, segments, plan.column, matching
    )
    if not ready:
        return []
    return [
        f"    Filter indexes: {ready} of {len(segments)} indexed segments searched through "
        "this filter's own index (built after repeated use), without the selector or the "
        "widening"
    ]


def _recall(
    engine: Engine, plan: VectorTopKPlan, params: Params, settings: SearchSettings
) -> float:
    """The search's recall against exact search over the same rows."""
    request, offset, _ = search_request(engine, plan, params, settings)
    approximate = engine.search(plan.collection, request).positions[offset:]
    exact = engine.search(plan.collection, replace(request, exact=True)).positions[offset:]
    return len(set(approximate.tolist()) & set(exact.tolist())) / max(len(exact), 1)
