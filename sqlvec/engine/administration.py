"""Running partition, index, maintenance and DML plans (everything but queries and INSERT)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from sqlvec.engine.engine import Engine
from sqlvec.engine.outcome import Outcome
from sqlvec.errors import DuplicateTable, Notice, UndefinedObject
from sqlvec.planner.plans import (
    AnalyzePlan,
    CompactPlan,
    CreateIndexPlan,
    CreatePartitionPlan,
    DeletePlan,
    DropIndexPlan,
    DropPartitionPlan,
    DuckPlan,
    FlushPlan,
    Params,
    ShowPartitionsPlan,
    UpdatePlan,
)


def execute_administration(engine: Engine, node: object, params: Params) -> Outcome:
    if isinstance(node, DeletePlan):
        ids = [row[0] for row in engine.run_sql(node.ids.sql, node.ids.bind(params)).rows]
        return Outcome(f"DELETE {engine.delete(node.collection, ids)}")
    if isinstance(node, UpdatePlan):
        return _update(engine, node, params)
    if isinstance(node, CreatePartitionPlan):
        created = engine.create_partition(node.collection, node.tag, node.if_not_exists)
        return Outcome(
            "CREATE PARTITION", notices=_skipped(created, f'partition "{node.tag}" already exists')
        )
    if isinstance(node, DropPartitionPlan):
        dropped = engine.drop_partition(node.collection, node.tag, node.if_exists)
        return Outcome(
            "DROP PARTITION", notices=_skipped(dropped, f'partition "{node.tag}" does not exist')
        )
    if isinstance(node, ShowPartitionsPlan):
        rows = _partition_rows(engine, node.collection)
        return Outcome(f"SELECT {len(rows)}", list(node.columns), rows)
    if isinstance(node, CreateIndexPlan):
        return _create_index(engine, node)
    if isinstance(node, DropIndexPlan):
        return _drop_index(engine, node)
    if isinstance(node, FlushPlan):
        engine.flush(list(node.collections))
        return Outcome("FLUSH")
    if isinstance(node, CompactPlan):
        engine.compact(node.collection)
        return Outcome("COMPACT")
    if isinstance(node, AnalyzePlan):
        rows = [(name, *finding) for name in node.collections for finding in engine.analyze(name)]
        return Outcome("ANALYZE", list(node.columns), rows)
    raise TypeError(f"no executor for {type(node).__name__}")


def stats_relations(engine: Engine, plan: DuckPlan) -> dict[str, pa.Table]:
    """The table functions a query reads, computed now: relation name -> Arrow table."""
    return {
        relation: engine.stats_table(collection) for relation, collection in plan.stats_relations
    }


def _update(engine: Engine, node: UpdatePlan, params: Params) -> Outcome:
    result = engine.run_sql(node.rows.sql, node.rows.bind(params))
    ids = [row[0] for row in result.rows]
    values: dict[str, list[Any]] = {
        column: [row[i + 1] for row in result.rows] for i, column in enumerate(node.columns)
    }
    return Outcome(f"UPDATE {engine.update(node.collection, ids, values) if ids else 0}")


def _partition_rows(engine: Engine, collection: str) -> list[tuple[Any, ...]]:
    counts: dict[str, int] = {}
    for row in engine.stats(collection):
        counts[row[0]] = counts.get(row[0], 0) + int(row[3])
    return [(name, counts.get(name, 0)) for name in engine.partition_names(collection)]


def _create_index(engine: Engine, node: CreateIndexPlan) -> Outcome:
    if node.definition.name in engine.index_names():
        if node.if_not_exists:
            return Outcome(
                "CREATE INDEX",
                notices=[Notice(f'relation "{node.definition.name}" already exists, skipping')],
            )
        existing = engine.collection(node.collection).indexes.get(node.definition.column)
        if existing is None or existing.name != node.definition.name:
            raise DuplicateTable(f'relation "{node.definition.name}" already exists')
    engine.create_index(node.collection, node.definition)
    return Outcome("CREATE INDEX")


def _drop_index(engine: Engine, node: DropIndexPlan) -> Outcome:
    if engine.drop_index(node.name, node.collection):
        return Outcome("DROP INDEX")
    what = f'index "{node.name}"' if node.name else f'an index on "{node.collection}"'
    if node.if_exists:
        return Outcome("DROP INDEX", notices=[Notice(f"{what} does not exist, skipping")])
    raise UndefinedObject(f"{what} does not exist")


def _skipped(done: bool, message: str) -> list[Notice]:
    return [] if done else [Notice(f"{message}, skipping")]
