"""Runs physical plans against the engine. Called on a worker thread, never the event loop."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from sqlvec.engine.administration import execute_administration, stats_relations
from sqlvec.engine.batch import describe_batch, execute_batch, search_table
from sqlvec.engine.engine import Engine
from sqlvec.engine.explain import COLUMNS as EXPLAIN_COLUMNS
from sqlvec.engine.explain import explain_analyze, explain_lines
from sqlvec.engine.outcome import Outcome
from sqlvec.engine.plain_topk import plain_topk
from sqlvec.engine.range_run import range_applies, run_range
from sqlvec.engine.segment_search import EXACT_BELOW_SELECTIVITY
from sqlvec.engine.topk import project, run_topk
from sqlvec.engine.vector_index import SearchSettings
from sqlvec.errors import Notice, SyntaxError
from sqlvec.planner.plans import (
    AnalyzePlan,
    BatchTopKPlan,
    ConstantPlan,
    CreateCollectionPlan,
    DropCollectionPlan,
    DuckPlan,
    ExplainPlan,
    InsertPlan,
    OutputColumn,
    Params,
    RowsContext,
    SearchSubqueryPlan,
    ShowCollectionsPlan,
    ShowPartitionsPlan,
    VectorRangePlan,
    VectorTopKPlan,
    search_relation,
)


def execute(
    engine: Engine, node: object, params: Params, settings: SearchSettings | None = None
) -> Outcome:
    if isinstance(node, VectorTopKPlan):
        settings = settings or SearchSettings()
        plain = plain_topk(engine, node, params, settings)  # None: not the plain case
        return plain if plain is not None else run_topk(engine, node, params, settings)
    if isinstance(node, VectorRangePlan):
        if not range_applies(engine, node, params):
            return _duck(engine, node.fallback, params)
        return run_range(engine, node, params, settings or SearchSettings())
    if isinstance(node, BatchTopKPlan):
        columns, rows = execute_batch(engine, node, params, settings or SearchSettings())
        return Outcome(f"SELECT {len(rows)}", columns, rows)
    if isinstance(node, SearchSubqueryPlan):
        return _search_subquery(engine, node, params, settings or SearchSettings())
    if isinstance(node, ExplainPlan):
        return _explain(engine, node, params, settings or SearchSettings())
    if isinstance(node, DuckPlan):
        return _duck(engine, node, params)
    if isinstance(node, InsertPlan):
        return _insert(engine, node, params, settings or SearchSettings())
    if isinstance(node, ConstantPlan):
        row = tuple(value(params) for value in node.values)
        return Outcome("SELECT 1", list(node.columns), [row])
    if isinstance(node, CreateCollectionPlan):
        return _create(engine, node)
    if isinstance(node, DropCollectionPlan):
        return _drop(engine, node)
    if isinstance(node, ShowCollectionsPlan):
        rows = [(name,) for name in engine.collection_names()]
        return Outcome(f"SELECT {len(rows)}", list(node.columns), rows)
    return execute_administration(engine, node, params)


QUICK_EXACT_WORK = 1_000_000  # vector components an exact search may scan on the event loop
# A WHERE clause evaluated in memory: a pass over each row's value (when not cached) plus, at
# worst, an exact search over 2% of the rows. Up to this much runs on the event loop.
QUICK_FILTERED_WORK = 2_000_000


def is_quick(engine: Engine, node: object) -> bool:
    """Whether running `node` is cheaper than handing it to a worker thread: a search whose
    exact part is small (the rows an index covers cost little) and whose WHERE clause, if
    any, is evaluated in memory over not too many rows."""
    if isinstance(node, ConstantPlan):
        return True  # `SELECT 1`, a pool's health check: values computed in Python
    if not isinstance(node, VectorTopKPlan) or node.query_sql:
        return False
    if node.filter is not None and node.row_filter is None:
        return False  # the WHERE clause runs in DuckDB
    collection = engine.collection(node.collection)
    dim = collection.spec.column(node.column).dim or 0
    rows = len(collection.rows)
    if node.filter is not None and rows * (1 + dim * EXACT_BELOW_SELECTIVITY) > QUICK_FILTERED_WORK:
        return False
    covered = sum(len(s.positions) for s in collection.all_segments() if node.column in s.indexes)
    return (rows - covered) * dim <= QUICK_EXACT_WORK


def describe(engine: Engine, node: object) -> list[OutputColumn] | None:
    """Result columns of a plan, without running it (Describe before Bind)."""
    if isinstance(node, VectorTopKPlan):
        return list(node.projection.columns)
    if isinstance(node, VectorRangePlan):
        return list(node.search.projection.columns)
    if isinstance(node, InsertPlan):
        return list(node.returning.columns) if node.returning else None
    if isinstance(node, ConstantPlan | ShowCollectionsPlan):
        return list(node.columns)
    if isinstance(node, ShowPartitionsPlan | AnalyzePlan):
        return list(node.columns)
    if isinstance(node, BatchTopKPlan):
        return describe_batch(engine, node)
    if isinstance(node, SearchSubqueryPlan):
        relations = _search_relations(engine, node, None)
        described = engine.describe_sql(node.final.describe_sql, relations)
        return _named(node.final, [OutputColumn(*column) for column in described])
    if isinstance(node, ExplainPlan):
        return list(EXPLAIN_COLUMNS)
    if isinstance(node, DuckPlan):
        if node.reads_catalog:
            engine.pg_catalog.refresh(engine.catalog_version)
        described = engine.describe_sql(node.describe_sql, stats_relations(engine, node))
        return _named(node, [OutputColumn(*column) for column in described])
    return None


def _explain(
    engine: Engine, plan: ExplainPlan, params: Params, settings: SearchSettings
) -> Outcome:
    if plan.analyze:
        lines = explain_analyze(
            engine,
            plan.inner,
            params,
            settings,
            lambda: execute(engine, plan.inner, params, settings),
            settings.explain_recall,
        )
    else:
        lines = explain_lines(engine, plan.inner, params, settings)
    return Outcome("EXPLAIN", list(EXPLAIN_COLUMNS), [(line,) for line in lines])


def _insert(engine: Engine, plan: InsertPlan, params: Params, settings: SearchSettings) -> Outcome:
    if plan.source is None:
        rows = [[value(params) for value in row] for row in plan.rows]
    else:
        rows = _selected_rows(engine, plan, params, settings)
    positions = engine.insert(plan.collection, plan.columns, rows, plan.partition)
    tag = f"INSERT 0 {len(positions)}"
    if plan.returning is None:
        return Outcome(tag)
    context = RowsContext(plan.collection, positions, None, params)
    returned = project(engine.inserted_rows(plan.collection), plan.returning, context)
    return Outcome(tag, list(plan.returning.columns), returned)


def _selected_rows(
    engine: Engine, plan: InsertPlan, params: Params, settings: SearchSettings
) -> list[list[Any]]:
    """The rows of an INSERT ... SELECT: its query run to the end first (so a collection
    copied into itself inserts what it held before), each value coerced to its column."""
    selected = execute(engine, plan.source, params, settings)
    width = len(selected.columns or [])
    if width > len(plan.columns):
        raise SyntaxError("INSERT has more expressions than target columns")
    if width < len(plan.columns):
        raise SyntaxError("INSERT has more target columns than expressions")
    coercions = plan.coercions
    return [
        [convert(value) for convert, value in zip(coercions, row, strict=True)]
        for row in selected.rows
    ]


def _duck(engine: Engine, plan: DuckPlan, params: Params) -> Outcome:
    if plan.reads_catalog:
        engine.pg_catalog.refresh(engine.catalog_version)
    result = engine.run_sql(plan.query.sql, plan.query.bind(params), stats_relations(engine, plan))
    columns = _named(plan, [OutputColumn(*column) for column in result.columns])
    return Outcome(f"SELECT {len(result.rows)}", columns, result.rows)


def _search_subquery(
    engine: Engine, plan: SearchSubqueryPlan, params: Params, settings: SearchSettings
) -> Outcome:
    """The search through the indexes, then the statement around it in DuckDB (over its
    rows, and the tables it names)."""
    found = [execute(engine, search, params, settings) for search in plan.searches]
    final = plan.final
    if final.reads_catalog:
        engine.pg_catalog.refresh(engine.catalog_version)
    relations = _search_relations(engine, plan, [outcome.rows for outcome in found])
    result = engine.run_sql(final.query.sql, final.query.bind(params), relations)
    columns = _named(final, [OutputColumn(*column) for column in result.columns])
    notices = [notice for outcome in found for notice in outcome.notices]
    return Outcome(f"SELECT {len(result.rows)}", columns, result.rows, notices=notices)


def _search_relations(
    engine: Engine, plan: SearchSubqueryPlan, rows: list[list[tuple[Any, ...]]] | None
) -> dict[str, pa.Table]:
    """The relations the statement reads: table functions' and each search's rows (none yet
    for Describe)."""
    relations = stats_relations(engine, plan.final)
    for i, search in enumerate(plan.searches):
        relations[search_relation(i)] = search_table(search, rows[i] if rows is not None else [])
    return relations


def _named(plan: DuckPlan, columns: list[OutputColumn]) -> list[OutputColumn]:
    """Postgres' column names (`count`, `?column?`) instead of DuckDB's (`count_star()`)."""
    names = plan.column_names
    if names is None or len(names) != len(columns):
        return columns
    return [OutputColumn(name, c.type, c.typmod) for name, c in zip(names, columns, strict=True)]


def _create(engine: Engine, plan: CreateCollectionPlan) -> Outcome:
    created = engine.create_collection(plan.spec, plan.if_not_exists)
    if created:
        return Outcome(plan.tag)
    notice = Notice(f'relation "{plan.spec.name}" already exists, skipping', sqlstate="42P07")
    return Outcome(plan.tag, notices=[notice])


def _drop(engine: Engine, plan: DropCollectionPlan) -> Outcome:
    notices = []
    for name in plan.names:
        if not engine.drop_collection(name, plan.if_exists):
            notices.append(Notice(f'table "{name}" does not exist, skipping', sqlstate="00000"))
    return Outcome(plan.tag, notices=notices)
