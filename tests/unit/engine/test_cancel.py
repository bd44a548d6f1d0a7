"""Cancel scopes against a real engine: DuckDB work is interrupted, a cancelled insert writes
nothing (neither DuckDB nor the in-memory copy), and a scope that ended ignores cancels."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest

from sqlvec.engine import cancel
from sqlvec.engine.cancel import STATEMENT_TIMEOUT, USER_REQUEST, CancelScope
from sqlvec.engine.catalog import CollectionSpec, ColumnSpec
from sqlvec.engine.engine import Engine
from sqlvec.errors import QueryCanceled
from sqlvec.types import INT8, VECTOR

T = TypeVar("T")
LONG_QUERY = "SELECT count(*) FROM range(100000000000) t(i) WHERE i % 7 = 3"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = Engine(tmp_path)
    spec = CollectionSpec(
        "items",
        (
            ColumnSpec("id", INT8, primary_key=True, not_null=True),
            ColumnSpec("embedding", VECTOR, dim=4, not_null=True),
        ),
        "l2",
    )
    engine.create_collection(spec)
    yield engine
    engine.close()


def run_in_thread(scope: CancelScope, work: Callable[[], T]) -> tuple[threading.Thread, list]:
    """Run `work` in `scope` on another thread (as the session's worker pool does)."""
    outcome: list = []

    def target() -> None:
        try:
            outcome.append(scope.run(work))
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


def wait_until_in_duckdb(scope: CancelScope) -> None:
    deadline = time.monotonic() + 30
    while not scope.in_duckdb:
        assert time.monotonic() < deadline, "the work never reached DuckDB"
        time.sleep(0.001)


def cancel_and_join(scope: CancelScope, reason: str, thread: threading.Thread) -> None:
    """Cancel as the session does: the interrupt is sent again while DuckDB work goes on,
    since one that reaches a cursor just before its query starts is lost."""
    scope.cancel(reason)
    deadline = time.monotonic() + 30
    while thread.is_alive() and time.monotonic() < deadline:
        scope.interrupt()
        thread.join(0.05)
    assert not thread.is_alive()


def test_cancel_interrupts_a_running_duckdb_query(engine: Engine) -> None:
    scope = CancelScope()
    thread, outcome = run_in_thread(scope, lambda: engine.run_sql(LONG_QUERY, []))
    wait_until_in_duckdb(scope)
    cancel_and_join(scope, STATEMENT_TIMEOUT, thread)
    assert isinstance(outcome[0], QueryCanceled)
    assert outcome[0].sqlstate == "57014"
    assert outcome[0].message == STATEMENT_TIMEOUT
    assert engine.run_sql("SELECT 42", []).rows == [(42,)]  # the thread's cursor still works


def test_insert_interrupted_inside_duckdb_writes_nothing(engine: Engine) -> None:
    count = 2_000_000  # DuckDB takes a while over this, so the cancel lands inside the INSERT
    vectors = np.random.default_rng(1).standard_normal((count, 4)).astype(np.float32)
    values = {"id": np.arange(1, count + 1, dtype=np.int64), "embedding": vectors}
    scope = CancelScope()
    thread, outcome = run_in_thread(scope, lambda: engine.insert_columns("items", values, count))
    wait_until_in_duckdb(scope)
    cancel_and_join(scope, USER_REQUEST, thread)
    assert isinstance(outcome[0], QueryCanceled), outcome
    assert outcome[0].message == USER_REQUEST
    assert engine.run_sql("SELECT count(*) FROM items", []).rows == [(0,)]
    assert engine.row_count("items") == 0
    positions = engine.insert("items", ["id", "embedding"], [[1, np.ones(4, np.float32)]])
    assert len(positions) == 1  # ids were not used up, and the collection takes rows


def test_a_cancelled_scope_stops_at_the_next_check(engine: Engine) -> None:
    scope = CancelScope()
    scope.cancel(USER_REQUEST)
    with pytest.raises(QueryCanceled):
        scope.run(lambda: "never runs")
    steps: list[int] = []

    def loop() -> None:
        for step in range(10):
            cancel.check()
            steps.append(step)
            if step == 2:
                scope_two.cancel(USER_REQUEST)

    scope_two = CancelScope()
    with pytest.raises(QueryCanceled):
        scope_two.run(loop)
    assert steps == [0, 1, 2]


def test_an_ended_scope_ignores_cancels(engine: Engine) -> None:
    scope = CancelScope()
    assert scope.run(lambda: engine.run_sql("SELECT 1", []).rows) == [(1,)]
    scope.end()
    scope.cancel(USER_REQUEST)
    assert scope.reason is None
    assert not scope.interrupt()
    cancel.check()  # outside any scope: nothing to cancel
    assert engine.run_sql("SELECT 2", []).rows == [(2,)]
