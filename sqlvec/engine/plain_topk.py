"""The short way for the most common statement: a prepared, plain k-nearest search.

    SELECT id FROM docs ORDER BY embedding <-> $1 LIMIT 10

run again and again with a new vector, over a collection that one sealed segment's index
holds whole. `run_topk` answers it through layers that each cover more: the search request
(filters, partitions, OFFSET), the segment search (growing rows, deletes, several segments,
exact parts, re-ranking), the short-answer notices. Each is a few microseconds of Python, and
together, in a server that runs a client's query between two of its own, they cost more than
the Faiss call (timed inside a server answering a 128-d kNN over the wire: ~90 µs of Python
around a ~70 µs Faiss call). Here those layers are checked, not run: where every one of them
would have nothing to do, `segment_search.sole_search` has `_sole_index` answer and the rows
are projected; anywhere else `plain_topk` answers None and the caller takes `run_topk`, which
gives the same rows (tests/unit/engine/test_plain_topk.py compares both ways).

The statement: no OFFSET, PARTITION list, partition key or subquery, ascending, a LIMIT of 1
to MAX_TOP_K; a WHERE clause only where the planner compiled it to run in memory
(`row_filter`). The collection: no deleted row, one indexed segment holding every row, its
index's scores the exact distances (`hnsw`, `flat`, `ivf_flat`, `nsg` of a `vector` column
under L2 or inner product), at least k rows. With a WHERE clause, the strategy the general way
would pick is the ID selector (`segment_search.sole_filtered_search`: 2-50 % of the rows
allowed), which `_sole_filtered` answers with the segment's index or the filter's own. The
answer: min(k, allowed rows) rows, no notice.
"""

from __future__ import annotations

import numpy as np

from sqlvec.engine.compiled_topk import compiled_topk
from sqlvec.engine.engine import Engine
from sqlvec.engine.outcome import Outcome
from sqlvec.engine.row_filter import matching_positions
from sqlvec.engine.segment_search import SearchRequest, sole_filtered_search, sole_search
from sqlvec.engine.topk import MAX_TOP_K, project
from sqlvec.engine.vector_index import SearchSettings
from sqlvec.planner.plans import Params, RowsContext, VectorTopKPlan
from sqlvec.types import VECTOR


def plain_topk(
    engine: Engine, plan: object, params: Params, settings: SearchSettings
) -> Outcome | None:
    """`run_topk`'s outcome where the statement and the collection are as above (see the
    module's docstring), else None."""
    if not _plain(plan):
        return None
    assert isinstance(plan, VectorTopKPlan)
    k = plan.limit(params) if plan.limit is not None else None
    if type(k) is not int or not 1 <= k <= MAX_TOP_K:
        return None
    query = plan.query(params)
    collection = engine.collection(plan.collection)
    column = collection.spec.column(plan.column)
    if column.type.oid != VECTOR.oid or not _vector_of(query, column.dim):
        return None
    request = SearchRequest(plan.column, query, k, plan.metric, settings=settings)
    with collection.layout_lock.reading():
        compiled = compiled_topk(collection, plan, request, plan.row_filter is not None)
        if plan.row_filter is None:
            result = compiled.search(request) if compiled else sole_search(collection, request)
        else:
            size = len(collection.rows)
            allowed = matching_positions(collection.rows, plan.row_filter, params, size)
            if compiled is not None:
                result = compiled.filtered(collection, request, allowed)
            else:
                result = sole_filtered_search(collection, request, allowed)
    if result is None:
        return None
    context = RowsContext(plan.collection, result.positions, result.distances, params)
    rows = project(engine, plan.projection, context)
    return Outcome(f"SELECT {len(rows)}", list(plan.projection.columns), rows)


def _plain(plan: object) -> bool:
    return (
        type(plan) is VectorTopKPlan
        and (plan.filter is None or plan.row_filter is not None)  # a WHERE compiled in memory
        and plan.offset is None
        and plan.partitions is None
        and plan.key_values is None
        and plan.query_sql is None
        and not plan.descending
    )


def _vector_of(query: object, dim: int | None) -> bool:
    """A checked float32 vector of the column's dimension (what the planner's coercion of a
    vector parameter gives); a NULL or anything else takes `run_topk`, which says why."""
    return (
        isinstance(query, np.ndarray)
        and query.dtype == np.float32
        and query.ndim == 1
        and (dim is None or query.shape[0] == dim)
    )
