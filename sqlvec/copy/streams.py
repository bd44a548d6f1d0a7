"""The stream a planned COPY runs as: the session hands it to the wire layer (QueryResult.copy)."""

from __future__ import annotations

from sqlvec.copy.copy_in import CopyIn, OffLoop
from sqlvec.copy.copy_out import CopyOut
from sqlvec.engine.engine import Engine
from sqlvec.engine.executor import execute
from sqlvec.engine.vector_index import SearchSettings
from sqlvec.planner.copy import COPY_PLANS, CopyFromPlan, CopyToPlan
from sqlvec.planner.plans import Params


def is_copy(node: object) -> bool:
    return isinstance(node, COPY_PLANS)


def copy_stream(
    engine: Engine,
    node: object,
    params: Params,
    settings: SearchSettings,
    off_loop: OffLoop,
) -> CopyIn | CopyOut:
    if isinstance(node, CopyFromPlan):
        return CopyIn(engine, node.collection, node.columns, node.options, off_loop)
    assert isinstance(node, CopyToPlan)
    query = node.query
    return CopyOut(lambda: execute(engine, query, params, settings), node.options, off_loop)
