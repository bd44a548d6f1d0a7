"""A readers-writer lock: many searches at once, or one compaction."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType


class ReadWriteLock:
    def __init__(self) -> None:
        # A plain Lock guards the counts (taken in C by `with`), and a Condition on it is
        # waited on only while the lock is held the other way: a search that finds no writer
        # takes and drops the mutex once each way, with no Python-level Condition calls.
        self._mutex = threading.Lock()
        self._changed = threading.Condition(self._mutex)
        self._readers = 0
        self._writing = False
        self._waiting = 0  # threads waiting on `_changed`
        # Context managers made once: `with lock.reading():` runs on every search, and a
        # generator-based context manager per call costs more than the lock itself.
        self._reading = _Held(self._acquire_read, self._release_read)
        self._writing_side = _Held(self._acquire_write, self._release_write)

    def reading(self) -> _Held:
        return self._reading

    def writing(self) -> _Held:
        return self._writing_side

    def _acquire_read(self) -> None:
        with self._mutex:
            while self._writing:
                self._wait()
            self._readers += 1

    def _release_read(self) -> None:
        with self._mutex:
            self._readers -= 1
            if self._readers == 0 and self._waiting:
                self._changed.notify_all()  # a writer waits for the last reader

    def _acquire_write(self) -> None:
        with self._mutex:
            while self._writing or self._readers:
                self._wait()
            self._writing = True

    def _release_write(self) -> None:
        with self._mutex:
            self._writing = False
            if self._waiting:
                self._changed.notify_all()

    def _wait(self) -> None:
        """Wait for a change, the mutex held (it is released while waiting)."""
        self._waiting += 1
        try:
            self._changed.wait()
        finally:
            self._waiting -= 1


class _Held:
    """`with` support for one side of the lock, made once per lock."""

    def __init__(self, acquire: Callable[[], None], release: Callable[[], None]) -> None:
        self._acquire = acquire
        self._release = release

    def __enter__(self) -> None:
        self._acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._release()
