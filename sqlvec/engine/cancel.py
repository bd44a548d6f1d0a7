"""Cancelling the statement a worker thread runs: a CancelRequest, or statement_timeout.

A statement runs inside a `CancelScope` (`scope.run(work)` on its worker thread). Cancelling
the scope (from the event loop) does two things:

- it interrupts the DuckDB cursors that are inside an `interruptible` section at that moment,
  so a long DuckDB query stops at once. Only reads, and writes before their COMMIT, are
  interruptible, so an interrupt never lands on a commit or on catalog bookkeeping;
- it makes the next `check()` raise, so our own long loops (LATERAL batches, COPY chunks,
  CREATE INDEX segments) stop between steps.

Faiss calls cannot be interrupted; they end on their own and the next check stops the
statement. Code that runs outside any scope (the index builder thread) is never cancelled.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

import duckdb

from sqlvec.errors import QueryCanceled

T = TypeVar("T")

USER_REQUEST = "canceling statement due to user request"
STATEMENT_TIMEOUT = "canceling statement due to statement timeout"

_current: ContextVar[CancelScope | None] = ContextVar("sqlvec_cancel_scope", default=None)


class CancelScope:
    """One statement's cancellation state, shared by the event loop and its worker thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reason: str | None = None
        self._ended = False
        self._cursors: set[duckdb.DuckDBPyConnection] = set()

    @property
    def reason(self) -> str | None:
        return self._reason

    def cancel(self, reason: str) -> None:
        """Cancel the statement, unless it is over (then nothing happens)."""
        with self._lock:
            if self._ended or self._reason is not None:
                return
            self._reason = reason
        self.interrupt()

    def interrupt(self) -> bool:
        """Interrupt the cursors inside an interruptible section; False when there are none.

        The caller sends it again while it returns True: an interrupt that reaches a cursor
        just before its query starts is lost (DuckDB clears it when a query begins).
        """
        with self._lock:
            if self._reason is None or self._ended:
                return False
            for cursor in self._cursors:
                cursor.interrupt()
            return bool(self._cursors)

    def end(self) -> None:
        """The statement is over: later cancels do nothing."""
        with self._lock:
            self._ended = True
            self._cursors.clear()

    @property
    def ended(self) -> bool:
        return self._ended

    @property
    def in_duckdb(self) -> bool:
        """Whether a cursor of this statement is inside an interruptible section now."""
        with self._lock:
            return bool(self._cursors)

    def check(self) -> None:
        """Raise 57014 when the statement was cancelled."""
        if self._reason is not None and not self._ended:
            raise QueryCanceled(self._reason)

    def run(self, work: Callable[[], T]) -> T:
        """Run `work` (on this thread) as this statement: `check()` and `interruptible` see it."""
        token = _current.set(self)
        try:
            self.check()
            return work()
        finally:
            _current.reset(token)

    def _watch(self, cursor: duckdb.DuckDBPyConnection) -> None:
        with self._lock:
            self.check()
            self._cursors.add(cursor)

    def _unwatch(self, cursor: duckdb.DuckDBPyConnection) -> None:
        with self._lock:
            self._cursors.discard(cursor)


def current() -> CancelScope | None:
    return _current.get()


def check() -> None:
    """Raise 57014 when the statement running on this thread was cancelled."""
    scope = _current.get()
    if scope is not None:
        scope.check()


@contextmanager
def interruptible(cursor: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """DuckDB work that a cancel may interrupt; an interrupted query raises 57014."""
    scope = _current.get()
    if scope is None:
        yield
        return
    scope._watch(cursor)
    try:
        yield
    except duckdb.InterruptException as exc:
        raise QueryCanceled(scope.reason or USER_REQUEST) from exc
    finally:
        scope._unwatch(cursor)
