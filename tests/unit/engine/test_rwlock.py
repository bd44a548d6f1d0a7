"""The readers-writer lock: readers share it, a writer has it alone."""

from __future__ import annotations

import threading
import time

from sqlvec.engine.rwlock import ReadWriteLock


def test_readers_share_and_a_writer_waits_for_them() -> None:
    lock = ReadWriteLock()
    events: list[str] = []
    inside = threading.Barrier(2)
    release = threading.Event()

    def reader() -> None:
        with lock.reading():
            inside.wait(timeout=5)  # both readers are in at once
            release.wait(timeout=5)
            events.append("reader out")

    def writer() -> None:
        with lock.writing():
            events.append("writer in")

    readers = [threading.Thread(target=reader) for _ in range(2)]
    for thread in readers:
        thread.start()
    time.sleep(0.05)
    writing = threading.Thread(target=writer)
    writing.start()
    time.sleep(0.05)
    assert events == []  # the writer waits while readers hold the lock
    release.set()
    for thread in [*readers, writing]:
        thread.join(timeout=5)
    assert events == ["reader out", "reader out", "writer in"]


def test_a_reader_waits_for_the_writer_and_an_error_releases() -> None:
    lock = ReadWriteLock()
    order: list[str] = []
    writer_in = threading.Event()
    release = threading.Event()

    def writer() -> None:
        with lock.writing():
            writer_in.set()
            release.wait(timeout=5)
            order.append("writer out")

    def reader() -> None:
        with lock.reading():
            order.append("reader in")

    writing = threading.Thread(target=writer)
    writing.start()
    writer_in.wait(timeout=5)
    reading = threading.Thread(target=reader)
    reading.start()
    time.sleep(0.05)
    assert order == []
    release.set()
    writing.join(timeout=5)
    reading.join(timeout=5)
    assert order == ["writer out", "reader in"]
    try:
        with lock.reading():
            raise ValueError("a failed search")
    except ValueError:
        pass
    with lock.writing():  # the failed reader released the lock
        order.append("writer again")
    assert order[-1] == "writer again"


def test_many_readers_and_writers_never_overlap_and_all_finish() -> None:
    """Waiters are woken only when someone waits: every writer still gets its turn, and no
    reader ever sees a writer inside (or a writer another one)."""
    lock = ReadWriteLock()
    state = {"readers": 0, "writers": 0, "overlaps": 0, "writes": 0}
    count = threading.Lock()

    def enter(side: str) -> None:
        with count:
            state[side] += 1
            if state["writers"] > 1 or (state["writers"] and state["readers"]):
                state["overlaps"] += 1

    def leave(side: str) -> None:
        with count:
            state[side] -= 1

    def reader() -> None:
        for _ in range(300):
            with lock.reading():
                enter("readers")
                leave("readers")

    def writer() -> None:
        for _ in range(100):
            with lock.writing():
                enter("writers")
                time.sleep(0)
                state["writes"] += 1
                leave("writers")

    threads = [threading.Thread(target=reader) for _ in range(4)]
    threads += [threading.Thread(target=writer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert state["overlaps"] == 0
    assert state["writes"] == 300
