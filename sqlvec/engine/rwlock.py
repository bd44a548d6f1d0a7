"""A readers-writer lock: many searches at once, or one compaction."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType


class ReadWriteLock:
    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._readers = 0
        self._writing = False
        # Context managers made once: `with lock.reading():` runs on every search, and a
        # generator-based context manager per call costs more than the lock itself.
        self._reading = _Held(self._acquire_read, self._release_read)
        self._writing_side = _Held(self._acquire_write, self._release_write)

    def reading(self) -> _Held:
        return self._reading

    def writing(self) -> _Held:
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
