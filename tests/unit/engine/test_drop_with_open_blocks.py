"""DROP PARTITION / DROP COLLECTION against another block's pending writes: refused while the
block holds them (55006), and a write that slipped in just before the DROP makes the block's
COMMIT fail cleanly (40001) instead of writing rows of a partition that no longer exists."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from sqlvec.engine.catalog import CollectionSpec, ColumnSpec
from sqlvec.engine.engine import Engine
from sqlvec.errors import ObjectInUse, SerializationFailure
from sqlvec.types import INT8, VECTOR

ROW = [1, np.ones(2, np.float32)]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = Engine(tmp_path)
    spec = CollectionSpec(
        "c",
        (
            ColumnSpec("id", INT8, primary_key=True, not_null=True),
            ColumnSpec("e", VECTOR, dim=2, not_null=True),
        ),
    )
    engine.create_collection(spec)
    engine.create_partition("c", "p")
    yield engine
    engine.close()


def insert_in_block(engine: Engine, block: object, partition: str) -> None:
    engine.run_in(block, lambda: engine.insert("c", ["id", "e"], [ROW], partition))


def test_drops_are_refused_while_a_block_has_pending_writes(engine: Engine) -> None:
    block = engine.begin()
    insert_in_block(engine, block, "p")
    with pytest.raises(ObjectInUse, match="being used by an open transaction"):
        engine.drop_partition("c", "p")
    with pytest.raises(ObjectInUse):
        engine.drop_collection("c")
    engine.commit(block)
    assert engine.row_count("c") == 1
    engine.drop_partition("c", "p")  # the block is over: allowed again
    assert engine.row_count("c") == 0


def test_a_rolled_back_block_no_longer_holds_the_partition(engine: Engine) -> None:
    block = engine.begin()
    insert_in_block(engine, block, "p")
    engine.rollback(block)
    assert engine.drop_partition("c", "p")


def test_commit_after_a_racing_drop_fails_and_writes_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    """The block's INSERT resolves its partition, then waits for the collection's write lock
    while DROP PARTITION (which holds it) finds no pending write yet and drops the partition."""
    block = engine.begin()
    collection = engine.collection("c")
    with collection.write_lock:
        writer = threading.Thread(target=insert_in_block, args=(engine, block, "p"))
        writer.start()
        time.sleep(0.3)  # the writer is now blocked on the lock, its partition resolved
        engine.drop_partition("c", "p")
    writer.join()
    with pytest.raises(SerializationFailure) as failed:
        engine.commit(block)
    assert failed.value.sqlstate == "40001"
    assert engine.row_count("c") == 0
    assert engine.run_sql("SELECT count(*) FROM c", []).rows == [(0,)]
    engine.close()
    reopened = Engine(tmp_path)  # start-up finds no row of an unknown partition
    try:
        assert reopened.row_count("c") == 0
    finally:
        reopened.close()
