"""The short way of a plain prepared kNN (engine/plain_topk.py) answers exactly what the
general way (`run_topk`) answers, and declines wherever any of its conditions does not hold:
then `execute` takes the general way, whose answer (or error) is the statement's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sqlvec import parser, planner
from sqlvec.engine import filter_indexes
from sqlvec.engine.catalog import CollectionSpec, ColumnSpec
from sqlvec.engine.engine import Engine
from sqlvec.engine.executor import execute
from sqlvec.engine.filter_indexes import BUILD_AFTER_USES
from sqlvec.engine.index_types import define_index
from sqlvec.engine.outcome import Outcome
from sqlvec.engine.plain_topk import plain_topk
from sqlvec.engine.row_filter import matching_positions
from sqlvec.engine.topk import run_topk
from sqlvec.engine.vector_index import SearchSettings
from sqlvec.errors import SqlvecError
from sqlvec.planner.plans import VectorTopKPlan
from sqlvec.types import HALFVEC, INT4, INT8, VECTOR

DIM, ROWS = 8, 2000
SETTINGS = SearchSettings(ef_search=64)


def _engine(path: Path, metric: str, index: str, params: dict[str, Any], copies: int = 1) -> Engine:
    """One sealed segment of ROWS rows (`copies` rows share each vector: ties), indexed."""
    engine = Engine(path)
    columns = (
        ColumnSpec("id", INT8, primary_key=True, not_null=True),
        ColumnSpec("cat", INT4),
        ColumnSpec("e", VECTOR, dim=DIM, not_null=True),
        ColumnSpec("h", HALFVEC, dim=DIM),
    )
    engine.create_collection(CollectionSpec("c", columns, metric, {"segment_rows": ROWS}))
    distinct = np.random.default_rng(3).standard_normal((ROWS // copies, DIM)).astype(np.float32)
    vectors = np.repeat(distinct, copies, axis=0)
    order = np.random.default_rng(4).permutation(ROWS)  # ids not in vector order
    rows = [[int(order[i]), i % 10, vectors[i], vectors[i]] for i in range(ROWS)]
    engine.insert("c", ["id", "cat", "e", "h"], rows)
    engine.create_index("c", define_index("c_e_idx", "e", DIM, index, metric, params))
    return engine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    built = _engine(tmp_path, "l2", "hnsw", {"m": 16})
    yield built
    built.close()


def _plan(engine: Engine, sql: str) -> VectorTopKPlan:
    node = planner.plan(parser.parse_one(sql), engine, [], {}).node
    assert isinstance(node, VectorTopKPlan)
    return node


def _both(engine: Engine, sql: str, params: list[Any]) -> tuple[Outcome | None, Outcome]:
    plan = _plan(engine, sql)
    return plain_topk(engine, plan, params, SETTINGS), run_topk(engine, plan, params, SETTINGS)


def _queries(count: int) -> list[np.ndarray]:
    return list(np.random.default_rng(9).standard_normal((count, DIM)).astype(np.float32))


PLAIN = [
    "SELECT id FROM c ORDER BY e <-> $1 LIMIT 10",
    "SELECT id, e <-> $1 AS distance, cat FROM c ORDER BY e <-> $1 LIMIT 7",
    "SELECT cat, id FROM c ORDER BY e <-> $1 LIMIT $2",
]


@pytest.mark.parametrize("sql", PLAIN)
def test_the_same_rows_as_the_general_way(engine: Engine, sql: str) -> None:
    for query in _queries(30):
        plain, general = _both(engine, sql, [query, 5])
        assert plain is not None, "a plain kNN over one indexed segment takes the short way"
        assert (plain.tag, plain.columns, plain.rows) == (
            general.tag,
            general.columns,
            general.rows,
        )
        assert plain.notices == general.notices == []


FILTERED = [
    "SELECT id, e <-> $1 AS d FROM c WHERE cat = $2 ORDER BY e <-> $1 LIMIT 10",  # 10 %
    "SELECT id FROM c WHERE cat IN (1, 4, 7) AND id <> $2 ORDER BY e <-> $1 LIMIT 10",  # 30 %
    "SELECT id FROM c WHERE cat >= 0 ORDER BY e <-> $1 LIMIT 10",  # every row ($2 unused)
]


@pytest.mark.parametrize("sql", FILTERED)
def test_a_filter_the_id_selector_serves_gives_the_general_way_s_rows(
    engine: Engine, sql: str
) -> None:
    for i, query in enumerate(_queries(30)):
        plain, general = _both(engine, sql, [query, i % 10])
        assert plain is not None, "a compiled WHERE allowing 2-50 % or every row: the short way"
        assert (plain.tag, plain.columns, plain.rows) == (
            general.tag,
            general.columns,
            general.rows,
        )
        assert len(plain.rows) == 10 and plain.notices == general.notices == []


def test_a_filter_s_own_index_answers_both_ways_alike(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filter_indexes, "MIN_ROWS", 100)  # 10 % of ROWS is 200 rows
    sql = FILTERED[0]
    queries = _queries(BUILD_AFTER_USES + 4)
    for query in queries:  # the filter's uses: its own index is built after enough of them
        _both(engine, sql, [query, 3])
    engine.wait_for_builds()
    collection = engine.collection("c")
    rows = collection.rows
    row_filter = _plan(engine, sql).row_filter
    assert row_filter is not None
    allowed = matching_positions(rows, row_filter, [queries[0], 3], len(rows))  # cached: same
    segments = collection.partitions["_default"].sealed
    assert collection.filter_indexes.count_ready(rows.version, segments, "e", allowed) == 1
    for query in queries:
        plain, general = _both(engine, sql, [query, 3])
        assert plain is not None and plain.rows == general.rows


@pytest.mark.parametrize(
    ("metric", "index", "params", "operator"),
    [
        ("l2", "hnsw", {"m": 8}, "<->"),
        ("ip", "hnsw", {"m": 8}, "<#>"),
        ("l2", "flat", {}, "<->"),
        ("l2", "ivf_flat", {"nlist": 16}, "<->"),
    ],
)
def test_ties_and_every_exact_score_index(
    tmp_path: Path, metric: str, index: str, params: dict[str, Any], operator: str
) -> None:
    engine = _engine(tmp_path, metric, index, params, copies=4)  # four rows at each distance
    try:
        sql = f"SELECT id, e {operator} $1 AS d FROM c ORDER BY e {operator} $1 LIMIT 10"
        for query in _queries(20):
            plain, general = _both(engine, sql, [query])
            assert plain is not None
            assert plain.rows == general.rows
            distances = [row[1] for row in plain.rows]
            assert len(set(distances)) < len(distances)  # ties, ranked by position as always
    finally:
        engine.close()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id FROM c ORDER BY e <-> $1 LIMIT 5 OFFSET 2",
        "SELECT id FROM c WHERE cat = 3 ORDER BY e <-> $1 LIMIT 5 OFFSET 2",
        "SELECT id FROM c WHERE id < 30 ORDER BY e <-> $1 LIMIT 5",  # 1.5 %: exact
        "SELECT id FROM c WHERE cat < 5 ORDER BY e <-> $1 LIMIT 5",  # 50 %: over-fetching
        "SELECT id FROM c WHERE cat IN (SELECT cat FROM c WHERE id = 3) ORDER BY e <-> $1 LIMIT 5",
        "SELECT id FROM c PARTITION (_default) ORDER BY e <-> $1 LIMIT 5",
        "SELECT id FROM c ORDER BY e <-> $1 DESC LIMIT 5",
        "SELECT id FROM c ORDER BY e <-> $1",
        "SELECT id FROM c ORDER BY e <-> $1 LIMIT 0",
        "SELECT id FROM c ORDER BY e <=> $1 LIMIT 5",  # no index serves cosine here
        "SELECT id FROM c ORDER BY h <-> $1 LIMIT 5",  # halfvec: not indexed
        "SELECT id FROM c ORDER BY e <-> (SELECT e FROM c WHERE id = 7) LIMIT 5",
    ],
)
def test_other_statements_take_the_general_way(engine: Engine, sql: str) -> None:
    params = [] if "SELECT e FROM" in sql else [_queries(1)[0]]
    plain, general = _both(engine, sql, params)
    assert plain is None
    assert execute(engine, _plan(engine, sql), params, SETTINGS).rows == general.rows


def _deleted(engine: Engine) -> None:
    engine.delete("c", [0])


def _growing(engine: Engine) -> None:
    one = np.ones(DIM, np.float32)
    engine.insert("c", ["id", "cat", "e", "h"], [[ROWS + 1, 0, one, one]])


def _dropped(engine: Engine) -> None:
    engine.drop_index("c_e_idx", "c")


@pytest.mark.parametrize("sql", [PLAIN[1], FILTERED[0]])
@pytest.mark.parametrize("change", [_deleted, _growing, _dropped])
def test_another_layout_takes_the_general_way(engine: Engine, change: Any, sql: str) -> None:
    assert _both(engine, sql, [_queries(1)[0], 3])[0] is not None
    change(engine)
    for query in _queries(5):
        plain, general = _both(engine, sql, [query, 3])
        assert plain is None
        assert execute(engine, _plan(engine, sql), [query, 3], SETTINGS).rows == general.rows


def test_fewer_rows_than_k_take_the_general_way_and_its_notice(engine: Engine) -> None:
    sql = "SELECT id FROM c ORDER BY e <-> $1 LIMIT 5000"
    plain, general = _both(engine, sql, [_queries(1)[0]])
    assert plain is None
    assert len(general.rows) == ROWS and general.notices


@pytest.mark.parametrize(
    ("params", "sqlstate"),
    [([None], "22023"), ([np.ones(3, np.float32)], "22000"), ([np.ones(DIM), 20000], "22023")],
)
def test_bad_parameters_get_the_general_way_s_error(
    engine: Engine, params: list[Any], sqlstate: str
) -> None:
    sql = "SELECT id FROM c ORDER BY e <-> $1 LIMIT $2" if len(params) > 1 else PLAIN[0]
    plan = _plan(engine, sql)
    with pytest.raises(SqlvecError) as raised:
        execute(engine, plan, params, SETTINGS)
    assert raised.value.sqlstate == sqlstate
    with pytest.raises(SqlvecError) as general:
        run_topk(engine, plan, params, SETTINGS)
    assert general.value.sqlstate == sqlstate


def test_an_nprobe_beyond_nlist_is_refused_as_always(tmp_path: Path) -> None:
    engine = _engine(tmp_path, "l2", "ivf_flat", {"nlist": 16})
    try:
        plan = _plan(engine, PLAIN[0])
        query = _queries(1)[0]
        assert plain_topk(engine, plan, [query], SearchSettings(nprobe=17)) is None
        with pytest.raises(SqlvecError) as raised:
            execute(engine, plan, [query], SearchSettings(nprobe=17))
        assert raised.value.sqlstate == "22023"
    finally:
        engine.close()


def test_a_null_filter_value_matches_nothing_both_ways(engine: Engine) -> None:
    plain, general = _both(engine, FILTERED[0], [_queries(1)[0], None])
    assert plain is None  # no row allowed: the general way's exact search over none
    assert general.rows == [] and general.tag == "SELECT 0"
