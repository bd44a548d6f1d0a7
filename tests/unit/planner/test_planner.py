"""Planner: binding, the vector top-k rule, parameter typing, and what goes to DuckDB."""

from __future__ import annotations

import pytest

from sqlvec import parser, planner
from sqlvec.engine.catalog import CollectionSpec, ColumnSpec
from sqlvec.errors import FeatureNotSupported, UndefinedColumn, UndefinedTable
from sqlvec.planner.logical import Limit, Project, Scan, Sort, SortKey, VectorTopK
from sqlvec.planner.plans import (
    SEARCH_RELATION,
    ConstantPlan,
    CreateCollectionPlan,
    DuckPlan,
    InsertPlan,
    SearchSubqueryPlan,
    VectorTopKPlan,
)
from sqlvec.planner.rules.topk import vector_topk
from sqlvec.types import FLOAT8, INT4, INT8, TEXT, VECTOR

DOCS = CollectionSpec(
    "docs",
    (
        ColumnSpec("id", INT8, primary_key=True, not_null=True),
        ColumnSpec("title", TEXT),
        ColumnSpec("year", INT4),
        ColumnSpec("embedding", VECTOR, dim=3, not_null=True),
    ),
)


class FakeCatalog:
    """The catalog interface the planner reads (a plain dictionary of specs)."""

    def has_collection(self, name: str) -> bool:
        return name == "docs"

    def spec(self, name: str) -> CollectionSpec:
        if name != "docs":
            raise UndefinedTable(f'relation "{name}" does not exist')
        return DOCS


def plan(sql: str, oids: list[int] | None = None) -> planner.Plan:
    return planner.plan(parser.parse_one(sql), FakeCatalog(), oids or [], {"version": "v"})


def test_order_by_distance_alias_with_limit_becomes_topk() -> None:
    result = plan("SELECT id, embedding <-> $1 AS d FROM docs ORDER BY d LIMIT $2")
    node = result.node
    assert isinstance(node, VectorTopKPlan)
    assert (node.collection, node.column, node.metric, node.descending) == (
        "docs",
        "embedding",
        "l2",
        False,
    )
    assert [c.name for c in node.projection.columns] == ["id", "d"]
    assert [c.type for c in node.projection.columns] == [INT8, FLOAT8]
    assert result.param_types == [VECTOR, INT8]


@pytest.mark.parametrize(
    ("operator", "metric"), [("<->", "l2"), ("<#>", "ip"), ("<=>", "cosine"), ("<+>", "l1")]
)
def test_each_operator_picks_its_metric(operator: str, metric: str) -> None:
    node = plan(f"SELECT id FROM docs ORDER BY embedding {operator} '[1,2,3]' LIMIT 5").node
    assert isinstance(node, VectorTopKPlan) and node.metric == metric


def test_rule_rewrites_sort_and_limit_only_over_a_distance() -> None:
    sort_by_year = parser.parse_one("SELECT id FROM docs ORDER BY year LIMIT 3")
    assert isinstance(plan(sort_by_year.sql()).node, DuckPlan)
    scan = Scan(DOCS)
    distance = parser.parse_one("SELECT embedding <-> '[1,2,3]'").expressions[0]
    logical = Limit(Sort(Project(scan, ()), (SortKey(distance, False),)), None, None)
    rewritten = vector_topk(logical)
    assert isinstance(rewritten, Project) and isinstance(rewritten.input, VectorTopK)


def test_where_becomes_a_duckdb_filter_with_typed_parameters() -> None:
    result = plan("SELECT id FROM docs WHERE year > $2 ORDER BY embedding <-> $1 LIMIT 3")
    node = result.node
    assert isinstance(node, VectorTopKPlan) and node.filter is not None
    assert "WHERE" in node.filter.sql and node.filter.param_indexes == (1,)
    assert result.param_types == [VECTOR, INT4]


def test_queries_without_vectors_go_to_duckdb() -> None:
    for sql in (
        "SELECT count(*) FROM docs",
        "SELECT year, count(*) FROM docs GROUP BY year",
        "SELECT a.id FROM docs a JOIN docs b ON a.id = b.id",
    ):
        assert isinstance(plan(sql).node, DuckPlan), sql
    version = plan("SELECT version()").node
    assert isinstance(version, DuckPlan) and "'v'" in version.query.sql
    assert version.column_names == ("version",)


def test_duckdb_parameters_are_renumbered_densely() -> None:
    node = plan("SELECT title FROM docs WHERE id = $2").node
    assert isinstance(node, DuckPlan)
    assert "$1" in node.query.sql and "$2" not in node.query.sql
    assert node.query.bind(["unused", 7]) == [7]


def test_constant_select_is_evaluated_without_duckdb() -> None:
    node = plan("SELECT '[1,2]'::vector <-> '[4,6]' AS d, 1").node
    assert isinstance(node, ConstantPlan)
    assert [v([]) for v in node.values] == [5.0, 1]


def test_insert_types_parameters_from_columns() -> None:
    result = plan("INSERT INTO docs (id, title, embedding) VALUES ($1, $2, $3) RETURNING id")
    assert isinstance(result.node, InsertPlan)
    assert result.param_types == [INT8, TEXT, VECTOR]


def test_create_collection_without_primary_key_gets_generated_id() -> None:
    node = plan("CREATE COLLECTION c (title TEXT, e VECTOR(4)) WITH (metric = 'cosine')").node
    assert isinstance(node, CreateCollectionPlan)
    assert node.spec.metric == "cosine"
    assert node.spec.columns[0].name == "id" and node.spec.columns[0].generated
    assert node.spec.column("e").dim == 4


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("SELECT nope FROM docs ORDER BY embedding <-> '[1,2,3]' LIMIT 1", UndefinedColumn),
        ("SELECT id FROM nope ORDER BY embedding <-> '[1,2,3]' LIMIT 1", UndefinedTable),
        ("DELETE FROM docs WHERE embedding <-> '[1,2,3]' < 1", FeatureNotSupported),
        ("CREATE COLLECTION c (name TEXT PRIMARY KEY, e VECTOR(2))", FeatureNotSupported),
    ],
)
def test_unsupported_and_unknown_names_are_rejected(sql: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        plan(sql)


def test_integer_division_truncates_toward_zero_as_postgres() -> None:
    node = plan("SELECT -7 / 2, 7 / 2, 7.0 / 2").node
    assert isinstance(node, ConstantPlan)
    assert [v([]) for v in node.values] == [-3, 3, 3.5]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id FROM docs ORDER BY embedding <-> '[1,2,3]', id LIMIT 1",
        "SELECT year, min(embedding <-> '[1,2,3]') FROM docs GROUP BY year",
        "SELECT id FROM docs WHERE embedding <-> $1 > 0.5",  # a lower bound: no range search
        "SELECT a.id FROM docs a JOIN docs b ON a.id = b.id ORDER BY a.embedding <=> b.embedding",
    ],
)
def test_other_vector_queries_run_exactly_in_duckdb(sql: str) -> None:
    node = plan(sql).node
    assert isinstance(node, DuckPlan)
    assert "LIST_" in node.query.sql.upper()


def test_distance_functions_are_the_operators() -> None:
    node = plan("SELECT id, l2_distance(embedding, $1) AS d FROM docs ORDER BY d LIMIT 3").node
    assert isinstance(node, VectorTopKPlan) and node.metric == "l2"
    node = plan("SELECT id FROM docs ORDER BY cosine_distance(embedding, $1) LIMIT 3").node
    assert isinstance(node, VectorTopKPlan) and node.metric == "cosine"


def test_one_knn_subquery_is_searched_and_the_statement_around_it_is_duckdb() -> None:
    result = plan(
        "SELECT year, count(*) FROM (SELECT year FROM docs ORDER BY embedding <-> $1 "
        "LIMIT 20) s GROUP BY year"
    )
    node = result.node
    assert isinstance(node, SearchSubqueryPlan)
    (search,) = node.searches
    assert search.collection == "docs" and search.limit is not None
    assert search.limit([None]) == 20
    assert f"FROM (SELECT * FROM {SEARCH_RELATION}) AS s" in node.final.query.sql
    assert result.param_types == [VECTOR]


def test_outputs_the_search_does_not_compute_make_it_a_subquery() -> None:
    node = plan(
        "SELECT id, upper(title) AS t, embedding <-> $1 AS d FROM docs d0 "
        "WHERE year > 2000 ORDER BY d LIMIT 5"
    ).node
    assert isinstance(node, SearchSubqueryPlan)
    assert node.searches[0].filter is not None  # the WHERE clause went with the search
    assert f"FROM (SELECT * FROM {SEARCH_RELATION}) AS d0" in node.final.query.sql
    assert "WHERE" not in node.final.query.sql and "ORDER BY" not in node.final.query.sql


def test_two_knn_subqueries_are_two_searches_and_none_stays_in_duckdb() -> None:
    two = plan(
        "SELECT * FROM (SELECT id FROM docs ORDER BY embedding <-> $1 LIMIT 3) a "
        "JOIN (SELECT id FROM docs ORDER BY embedding <-> $2 LIMIT 4) b ON a.id = b.id"
    ).node
    assert isinstance(two, SearchSubqueryPlan)
    assert [s.limit([None, None]) for s in two.searches if s.limit] == [3, 4]
    assert f"(SELECT * FROM {SEARCH_RELATION}_1) AS b" in two.final.query.sql
    plain = plan("SELECT count(*) FROM (SELECT id FROM docs ORDER BY id LIMIT 3) s")
    assert isinstance(plain.node, DuckPlan)


def test_a_search_as_a_cte_or_under_in_is_searched() -> None:
    cte = plan(
        "WITH nn AS (SELECT id FROM docs ORDER BY embedding <-> $1 LIMIT 5) SELECT count(*) FROM nn"
    ).node
    assert isinstance(cte, SearchSubqueryPlan)
    assert f"nn AS (SELECT * FROM {SEARCH_RELATION})" in cte.final.query.sql
    under_in = plan(
        "SELECT count(*) FROM docs WHERE id IN "
        "(SELECT id FROM docs ORDER BY embedding <-> $1 LIMIT 5)"
    ).node
    assert isinstance(under_in, SearchSubqueryPlan)


def test_a_correlated_search_or_one_reading_a_cte_stays_in_duckdb() -> None:
    correlated = plan(
        "SELECT title FROM docs d WHERE d.id IN (SELECT id FROM docs i WHERE i.year = d.year "
        "ORDER BY embedding <-> $1 LIMIT 1)"
    ).node
    assert isinstance(correlated, DuckPlan)
    reads_cte = plan(
        "WITH q AS (SELECT embedding FROM docs WHERE id = 1) SELECT count(*) FROM "
        "(SELECT id FROM docs ORDER BY embedding <-> (SELECT embedding FROM q) LIMIT 2) s"
    ).node
    assert isinstance(reads_cte, DuckPlan)
