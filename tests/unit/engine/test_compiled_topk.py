"""A prepared plain search compiled against its collection's layout (engine/compiled_topk.py)
is kept for the plan, answers each execution as the general way does, and is compiled again -
or declined - as the layout under it changes: rows written, an index dropped or replaced, the
collection compacted, other settings or another k. It never keeps a replaced index alive."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sqlvec.engine import compiled_topk as compiled_module
from sqlvec.engine.compiled_topk import CompiledTopK
from sqlvec.engine.engine import Engine
from sqlvec.engine.index_types import define_index
from sqlvec.engine.plain_topk import plain_topk
from sqlvec.engine.topk import run_topk
from sqlvec.engine.vector_index import BuiltIndex, SearchSettings
from sqlvec.planner.plans import VectorTopKPlan
from tests.unit.engine.test_plain_topk import DIM, FILTERED, PLAIN, ROWS, SETTINGS
from tests.unit.engine.test_plain_topk import _deleted as deleted
from tests.unit.engine.test_plain_topk import _dropped as dropped
from tests.unit.engine.test_plain_topk import _engine as build_engine
from tests.unit.engine.test_plain_topk import _growing as inserted
from tests.unit.engine.test_plain_topk import _plan as plan_of
from tests.unit.engine.test_plain_topk import _queries as queries


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    built = build_engine(tmp_path, "l2", "hnsw", {"m": 16})
    yield built
    built.close()


def _kept(engine: Engine, plan: VectorTopKPlan) -> CompiledTopK | None:
    entries = engine.collection("c").compiled_searches
    return next((entry for entry in entries.values() if entry.plan is plan), None)


def _same_as_general(
    engine: Engine, plan: VectorTopKPlan, params: list[Any], settings: SearchSettings = SETTINGS
) -> bool:
    """Whether the short way answered, with the general way's rows."""
    plain = plain_topk(engine, plan, params, settings)
    general = run_topk(engine, plan, params, settings)
    assert plain is None or (plain.rows, plain.notices) == (general.rows, general.notices)
    return plain is not None


@pytest.mark.parametrize("sql", [PLAIN[1], FILTERED[0]])
def test_one_plan_keeps_one_compiled_search(engine: Engine, sql: str) -> None:
    plan = plan_of(engine, sql)
    assert _same_as_general(engine, plan, [queries(1)[0], 3])
    kept = _kept(engine, plan)
    assert kept is not None
    for i, query in enumerate(queries(20)):
        assert _same_as_general(engine, plan, [query, i % 10])
        assert _kept(engine, plan) is kept  # not compiled again
    # Another plan of the same text (another session's) has its own entry.
    assert _same_as_general(engine, plan_of(engine, sql), [queries(1)[0], 3])
    assert len(engine.collection("c").compiled_searches) == 2


@pytest.mark.parametrize("sql", [PLAIN[1], FILTERED[0]])
@pytest.mark.parametrize("change", [deleted, inserted, dropped])
def test_a_write_or_a_dropped_index_declines_the_kept_search(
    engine: Engine, sql: str, change: Callable[[Engine], None]
) -> None:
    plan = plan_of(engine, sql)
    assert _same_as_general(engine, plan, [queries(1)[0], 3])
    change(engine)
    for query in queries(5):
        assert not _same_as_general(engine, plan, [query, 3])


def test_a_replaced_index_is_compiled_again_and_not_kept_alive(engine: Engine) -> None:
    plan = plan_of(engine, PLAIN[0])
    assert _same_as_general(engine, plan, [queries(1)[0]])
    old = weakref.ref(engine.collection("c").partitions["_default"].sealed[0].indexes["e"])
    engine.drop_index("c_e_idx", "c")
    engine.create_index("c", define_index("c_e_idx", "e", DIM, "flat", "l2", {}))
    for query in queries(5):
        assert _same_as_general(engine, plan, [query])  # through the new index
    kept = _kept(engine, plan)
    assert kept is not None and kept.definition.type == "flat"
    gc.collect()
    assert old() is None


def test_a_segment_s_rebuilt_index_is_compiled_again(engine: Engine) -> None:
    """A segment's index replaced under the same definition (a torn file rebuilt)."""
    plan = plan_of(engine, PLAIN[0])
    assert _same_as_general(engine, plan, [queries(1)[0]])
    first = _kept(engine, plan)
    segment = engine.collection("c").partitions["_default"].sealed[0]
    old = segment.indexes["e"]
    segment.indexes["e"] = BuiltIndex(old.definition, old.index)
    assert _same_as_general(engine, plan, [queries(1)[0]])
    kept = _kept(engine, plan)
    assert kept is not first and kept is not None and kept.index_ref() is segment.indexes["e"]


def test_compaction_compiles_against_the_new_rows(engine: Engine) -> None:
    plan = plan_of(engine, FILTERED[0])
    assert _same_as_general(engine, plan, [queries(1)[0], 3])
    engine.delete("c", list(range(0, ROWS, 7)))
    engine.compact("c")
    answered = [
        _same_as_general(engine, plan, [query, i % 10]) for i, query in enumerate(queries(10))
    ]
    # The index still holds the compacted-away rows' ids: an answer that reached one is short
    # and goes the general way; the others answer from the new rows' entry.
    assert any(answered)
    kept = _kept(engine, plan)
    assert kept is not None and kept.rows_ref() is engine.collection("c").rows


def test_other_settings_or_k_compile_again(engine: Engine) -> None:
    plan = plan_of(engine, PLAIN[2])  # LIMIT $2
    query = queries(1)[0]
    assert _same_as_general(engine, plan, [query, 5])
    first = _kept(engine, plan)
    assert _same_as_general(engine, plan, [query, 8])
    assert _kept(engine, plan) is not first
    wider = SearchSettings(ef_search=200)
    assert _same_as_general(engine, plan, [query, 8], wider)
    kept = _kept(engine, plan)
    assert kept is not None and kept.settings == wider and kept.k == 8


def test_an_ivf_index_serves_a_filter_at_the_default_nprobe(tmp_path: Path) -> None:
    """The selector's search widens nprobe past the index's lists (16 / 10 % > 16): Faiss
    searches all of them, and nothing refuses the setting the user never gave."""
    engine = build_engine(tmp_path, "l2", "ivf_flat", {"nlist": 16})
    try:
        plan = plan_of(engine, FILTERED[0])
        for i, query in enumerate(queries(10)):
            assert _same_as_general(engine, plan, [query, i % 10], SearchSettings())
    finally:
        engine.close()


def test_an_nsg_index_is_declined_once_per_layout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NSG takes no parameters object: the first execution keeps a declined entry, and the
    next ones on the same layout go the general way without looking for the index again."""
    engine = build_engine(tmp_path, "l2", "nsg", {})
    try:
        plan = plan_of(engine, PLAIN[0])
        found: list[object] = []
        look = compiled_module.sole_segment

        def counted(*args: Any) -> Any:
            found.append(args)
            return look(*args)

        monkeypatch.setattr(compiled_module, "sole_segment", counted)
        for query in queries(5):
            _same_as_general(engine, plan, [query])  # equal rows whichever way answers
        kept = _kept(engine, plan)
        assert kept is not None and kept.declined
        assert len(found) == 1
        # A new index (a new layout): looked at again, once.
        dropped(engine)
        engine.create_index("c", define_index("c_e_nsg", "e", DIM, "nsg", "l2", {}))
        for query in queries(3):
            _same_as_general(engine, plan, [query])
        assert len(found) == 2
    finally:
        engine.close()
