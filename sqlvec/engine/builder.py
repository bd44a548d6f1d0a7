"""The background worker that builds the indexes of sealed segments.

One thread: index builds are CPU-bound and Faiss parallelises inside a build where it can, so
more builders would only compete with searches for the same cores. Inserts and searches go on
while it works; a segment is searched exactly until its index is published.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger("sqlvec.builder")

Job = Callable[[], None]


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
