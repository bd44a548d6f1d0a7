"""A readers-writer lock: many searches at once, or one compaction."""

from __future__ import annotations

import threading
from types import TracebackType


class ReadWriteLock:
    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._readers = 0
        self._writing = False
        # Context managers made once: `with lock.reading():` runs on every search, and a
        # generator-based context manager per call costs more than the lock itself.
        self._reading = _Reading(self)
        self._writing_side = _Writing(self)

    def reading(self) -> _Reading:
        return self._reading

    def writing(self) -> _Writing:
        return self._writing_side

    def _acquire_read(self) -> None:
        with self._condition:
            while self._writing:
                self._condition.wait()
            self._readers += 1

    def _release_read(self) -> None:
        with self._condition:
            self._readers -= 1
            if self._readers == 0:
                self._condition.notify_all()  # a writer may be waiting for the last reader

    def _acquire_write(self) -> None:
        with self._condition:
            while self._writing or self._readers:
                self._condition.wait()
            self._writing = True

    def _release_write(self) -> None:
        with self._condition:
            self._writing = False
            self._condition.notify_all()


class _Reading:
    def __init__(self, lock: ReadWriteLock) -> None:
        self._lock = lock

    def __enter__(self) -> None:
        self._lock._acquire_read()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._lock._release_read()


class _Writing:
    def __init__(self, lock: ReadWriteLock) -> None:
        self._lock = lock

    def __enter__(self) -> None:
        self._lock._acquire_write()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._lock._release_write()
