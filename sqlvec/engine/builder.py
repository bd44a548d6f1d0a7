"""The background worker that builds the indexes of sealed segments.

One thread: index builds are CPU-bound and Faiss parallelises inside a build where it can, so
more builders would only compete with searches for the same cores. Inserts and searches go on
while it works; a segment is searched exactly until its index is published.

The thread runs at a lower scheduling priority (nice + BUILDER_NICE_INCREMENT, Linux): where a
build and queries want the same core, the queries come first and the build takes the time
they leave (at nice +10 about a tenth of a contended core, all of an idle one). Builds of
sealed segments and filter indexes are background work, like PostgreSQL's autovacuum; a filter
index is built during the very burst of searches it is for, which it would otherwise compete
with. The OpenMP threads a build starts inherit the priority.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
from collections.abc import Callable

log = logging.getLogger("sqlvec.builder")

Job = Callable[[], None]

BUILDER_NICE_INCREMENT = 10
_MAX_NICE = 19


class IndexBuilder:
    def __init__(self) -> None:
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._idle = threading.Condition()
        self._pending = 0
        self._thread = threading.Thread(target=self._run, name="sqlvec-index-builder", daemon=True)
        self._thread.start()

    def submit(self, job: Job) -> None:
        with self._idle:
            self._pending += 1
        self._jobs.put(job)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every submitted build finished; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    @property
    def pending(self) -> int:
        return self._pending

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=60)

    def _run(self) -> None:
        _yield_to_queries()
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            except Exception:
                # The segment stays exact (still correct); the next restart tries again.
                log.exception("index build failed")
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()


def _yield_to_queries() -> None:
    """Lower the calling thread's priority by BUILDER_NICE_INCREMENT. Linux only: there nice
    is per thread (elsewhere `setpriority` would lower the whole server's)."""
    if sys.platform != "linux":
        return
    thread = threading.get_native_id()
    try:
        nice = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(nice + BUILDER_NICE_INCREMENT, _MAX_NICE))
    except OSError as error:  # a sandbox that forbids it: builds run at the server's priority
        log.warning("could not lower the index builder's priority: %s", error)
