"""Planner: which distance bounds in WHERE become a range search, and which go to DuckDB."""

from __future__ import annotations

import pytest

from sqlvec.planner.plans import DuckPlan, VectorRangePlan
from sqlvec.types import FLOAT8, INT8, VECTOR
from tests.unit.planner.test_planner import plan


@pytest.mark.parametrize(
    ("sql", "transform", "comparison", "ordered"),
    [
        ("SELECT id FROM docs WHERE embedding <-> $1 < $2", (), "<", False),
        ("SELECT id FROM docs WHERE $2 >= embedding <-> $1", (), "<=", False),
        ("SELECT id FROM docs WHERE embedding <#> $1 < -0.5", (), "<", False),
        (
            "SELECT id FROM docs WHERE 1 - (embedding <=> $1) > 0.8 AND year > 2000 "
            "ORDER BY embedding <=> $1 LIMIT 5",
            (("rsub", 1.0),),
            ">",
            True,
        ),
        (
            "SELECT id FROM docs WHERE -(embedding <#> $1) >= 1 ORDER BY -(embedding <#> $1) DESC",
            (("neg", 0.0),),
            ">=",
            True,
        ),
    ],
)
def test_upper_bounds_become_range_searches(
    sql: str, transform: tuple, comparison: str, ordered: bool
) -> None:
    node = plan(sql).node
    assert isinstance(node, VectorRangePlan)
    assert (node.transform, node.comparison, node.ordered) == (transform, comparison, ordered)
    assert not node.search.descending
    assert (node.search.filter is not None) == ("year" in sql)


def test_range_parameters_are_typed() -> None:
    result = plan("SELECT id FROM docs WHERE embedding <-> $1 < $2 ORDER BY embedding <-> $1")
    assert isinstance(result.node, VectorRangePlan)
    assert result.param_types == [VECTOR, FLOAT8]
    limited = plan("SELECT id FROM docs WHERE embedding <-> $1 < 1 LIMIT $2")
    assert limited.param_types == [VECTOR, INT8]


def test_order_by_a_second_query_vector_keeps_the_exact_plan_beside() -> None:
    result = plan("SELECT id FROM docs WHERE embedding <-> $1 < $2 ORDER BY embedding <-> $3")
    node = result.node
    assert isinstance(node, VectorRangePlan)
    assert node.order_query is not None and isinstance(node.fallback, DuckPlan)
    assert result.param_types == [VECTOR, FLOAT8, VECTOR]
    same = plan("SELECT id FROM docs WHERE embedding <-> $1 < $2 ORDER BY embedding <-> $1").node
    assert same.order_query is None and same.fallback is None


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id FROM docs WHERE embedding <-> $1 < 1 ORDER BY embedding <#> $2",
        "SELECT id FROM docs WHERE embedding <-> $1 < 1 ORDER BY embedding <-> "
        "(SELECT embedding FROM docs WHERE id = 1)",
    ],
)
def test_order_by_another_distance_or_a_subquery_runs_in_duckdb(sql: str) -> None:
    assert isinstance(plan(sql).node, DuckPlan)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id FROM docs WHERE embedding <-> $1 > 1",  # a lower bound
        "SELECT id FROM docs WHERE 1 - (embedding <=> $1) < 0.5",  # a lower bound on distance
        "SELECT id FROM docs WHERE embedding <-> $1 < 1 OR year = 1",
        "SELECT id FROM docs WHERE embedding <-> $1 < 1 ORDER BY year",
        "SELECT id FROM docs WHERE embedding <-> $1 < 1 ORDER BY embedding <#> $1",
        "SELECT count(*) FROM docs WHERE embedding <-> $1 < 1",
        "SELECT id FROM docs WHERE embedding <-> $1 < 1 AND embedding <#> $1 < 0",
        "SELECT id FROM docs WHERE embedding <-> $1 < year",
    ],
)
def test_other_distance_predicates_run_in_duckdb(sql: str) -> None:
    assert isinstance(plan(sql).node, DuckPlan)
