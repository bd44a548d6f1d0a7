"""The index builder thread: its jobs run in order, a failed one does not stop it, and it
yields the CPU to queries (a lower scheduling priority than the server's other threads)."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator

import pytest

from sqlvec.engine.builder import BUILDER_NICE_INCREMENT, IndexBuilder


def _nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.fixture
def builder() -> Iterator[IndexBuilder]:
    built = IndexBuilder()
    yield built
    built.close()


@pytest.mark.skipif(sys.platform != "linux", reason="nice is per thread on Linux only")
def test_builds_run_at_a_lower_priority_than_queries(builder: IndexBuilder) -> None:
    seen: list[int] = []
    builder.submit(lambda: seen.append(_nice()))
    assert builder.wait_idle(10)
    assert seen == [min(_nice() + BUILDER_NICE_INCREMENT, 19)]
    if _nice() < 19:  # a test run already at the lowest priority has none lower to give
        assert _nice() < seen[0]  # the calling thread (a query's) keeps its own priority


def test_jobs_run_in_order_and_a_failure_does_not_stop_the_next(builder: IndexBuilder) -> None:
    done: list[str] = []

    def failing() -> None:
        done.append("failed")
        raise RuntimeError("a build that fails")

    builder.submit(lambda: done.append("first"))
    builder.submit(failing)
    builder.submit(lambda: done.append("after"))
    assert builder.wait_idle(10)
    assert done == ["first", "failed", "after"]
    assert builder.pending == 0
