"""Running a range search plan (`WHERE e <-> q < r`): the bound, the search, its rows."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from sqlvec.engine.engine import Engine
from sqlvec.engine.outcome import Outcome
from sqlvec.engine.range_search import RangeBound
from sqlvec.engine.segment_search import SearchRequest
from sqlvec.engine.topk import project, search_request
from sqlvec.engine.vector_index import SearchSettings
from sqlvec.planner.plans import Params, RowsContext, VectorRangePlan
from sqlvec.vector_kinds import kind_of

_FORWARD: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "neg": lambda x, _: -x,
    "rsub": lambda x, c: c - x,
    "add": lambda x, c: x + c,
    "sub": lambda x, c: x - c,
    "mul": lambda x, c: x * c,
}
_INVERSE: dict[str, Callable[[float, float], float]] = {
    "neg": lambda y, _: -y,
    "rsub": lambda y, c: c - y,
    "add": lambda y, c: y - c,
    "sub": lambda y, c: y + c,
    "mul": lambda y, c: y / c,
}


def run_range(
    engine: Engine, plan: VectorRangePlan, params: Params, settings: SearchSettings
) -> Outcome:
    request, offset, limit, bound = range_request(engine, plan, params, settings)
    if bound is None:
        positions = distances = np.empty(0)
    else:
        wanted = None if limit is None else limit + offset
        result = engine.range_search(plan.search.collection, request, bound, wanted)
        positions, distances = result.positions[offset:], result.distances[offset:]
    context = RowsContext(plan.search.collection, positions, distances, params)
    rows = project(engine, plan.search.projection, context)
    return Outcome(f"SELECT {len(rows)}", list(plan.search.projection.columns), rows)


def range_applies(engine: Engine, plan: VectorRangePlan, params: Params) -> bool:
    """Whether the range search answers `plan` with these parameters: always, unless ORDER BY
    names a second query vector that differs from the bound's (then its DuckDB fallback)."""
    if plan.order_query is None:
        return True
    first, second = plan.search.query(params), plan.order_query(params)
    if first is None or second is None:
        return False
    column = engine.spec(plan.search.collection).column(plan.search.column)
    kind = kind_of(column.type)
    return bool(
        np.array_equal(kind.search_form(first, column.dim), kind.search_form(second, column.dim))
    )


def range_request(
    engine: Engine, plan: VectorRangePlan, params: Params, settings: SearchSettings
) -> tuple[SearchRequest, int, int | None, RangeBound | None]:
    """(request, OFFSET, LIMIT, bound); the bound is None when no row can pass (NULL)."""
    request, offset, limit = search_request(engine, plan.search, params, settings)
    value = plan.bound(params)
    if value is None:
        return request, offset, limit, None
    return request, offset, limit, distance_bound(plan.transform, plan.comparison, float(value))


def distance_bound(
    transform: tuple[tuple[str, float], ...], comparison: str, value: float
) -> RangeBound:
    """`f(distance) <comparison> value` as a radius on the distance and an exact test."""
    radius = value
    for step, constant in reversed(transform):
        radius = _INVERSE[step](radius, constant)
    if math.isnan(radius):
        radius = math.inf

    def keep(distances: np.ndarray) -> np.ndarray:
        values = distances
        for step, constant in transform:
            values = _FORWARD[step](values, constant)
        return _compare(values, comparison, value)

    return RangeBound(radius, keep)


def _compare(values: np.ndarray, comparison: str, value: float) -> np.ndarray:
    """Postgres' float8 comparison: NaN equals NaN and is greater than every number."""
    nan = np.isnan(values)
    if math.isnan(value):
        return {"<": ~nan, "<=": np.ones_like(nan), ">": np.zeros_like(nan), ">=": nan}[comparison]
    with np.errstate(invalid="ignore"):
        result = {
            "<": values < value,
            "<=": values <= value,
            ">": values > value,
            ">=": values >= value,
        }[comparison]
    if comparison in (">", ">="):
        result |= nan
    return result
