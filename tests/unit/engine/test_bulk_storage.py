"""The bulk insert path: DuckDB's float compression choice and the in-memory copy taking over
the arrays it is given."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from sqlvec.engine.catalog import CollectionSpec, ColumnSpec
from sqlvec.engine.engine import Engine
from sqlvec.engine.rows import GrowableArray
from sqlvec.engine.store import DATABASE_FILE
from sqlvec.types import FLOAT8, INT8, VECTOR

DIM = 16
ROWS = 130_000  # more than a DuckDB row group (122880): written to the file at insert


def spec() -> CollectionSpec:
    return CollectionSpec(
        "bulk",
        (
            ColumnSpec("id", INT8, primary_key=True, not_null=True),
            ColumnSpec("price", FLOAT8),
            ColumnSpec("embedding", VECTOR, dim=DIM, not_null=True),
        ),
    )


def vectors(count: int, seed: int = 5) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((count, DIM)).astype(np.float32)


def storage_compressions(engine: Engine) -> dict[str, set[str]]:
    rows = engine.store.cursor().execute(
        "SELECT column_name, compression FROM pragma_storage_info('sqlvec_data.bulk')"
    )
    found: dict[str, set[str]] = {}
    for column, compression in rows.fetchall():
        found.setdefault(column, set()).add(compression)
    return found


def test_bulk_rows_skip_float_compression_and_survive_reopening(tmp_path: Path) -> None:
    engine = Engine(tmp_path)
    engine.create_collection(spec())
    data = vectors(ROWS)
    prices = np.round(np.arange(ROWS) * 0.25, 2)  # decimal-like: what ALP would compress
    values = {"id": np.arange(ROWS, dtype=np.int64), "price": prices, "embedding": data.copy()}
    engine.insert_columns("bulk", values, ROWS)
    engine.store.checkpoint()
    used = storage_compressions(engine)
    assert not used["embedding"] & {"ALP", "ALPRD"}
    assert not used["price"] & {"ALP", "ALPRD"}
    assert used["id"] - {"Uncompressed"}  # integers keep their compression
    engine.close()

    engine = Engine(tmp_path)
    try:
        rows = engine.collection("bulk").rows
        assert len(rows) == ROWS
        assert np.array_equal(rows.snapshot().vectors["embedding"], data)
    finally:
        engine.close()


def test_rows_compressed_by_an_older_server_still_load(tmp_path: Path) -> None:
    engine = Engine(tmp_path)
    engine.create_collection(spec())
    engine.close()
    data = np.round(vectors(ROWS, seed=6), 3)  # ALP compresses these
    connection = duckdb.connect(str(tmp_path / DATABASE_FILE))  # DuckDB's defaults
    embedding = pa.FixedSizeListArray.from_arrays(pa.array(data.reshape(-1)), DIM)
    connection.register("given", pa.table({"id": np.arange(ROWS), "embedding": embedding}))
    connection.execute("INSERT INTO sqlvec_data.bulk (id, embedding) SELECT * FROM given")
    connection.execute("CHECKPOINT")
    compressions = connection.execute(
        "SELECT DISTINCT compression FROM pragma_storage_info('sqlvec_data.bulk') "
        "WHERE column_name = 'embedding'"
    ).fetchall()
    assert ("ALP",) in compressions
    connection.close()

    engine = Engine(tmp_path)
    try:
        assert np.array_equal(engine.collection("bulk").rows.snapshot().vectors["embedding"], data)
    finally:
        engine.close()


def test_first_block_is_kept_and_later_appends_copy() -> None:
    array = GrowableArray(np.float32, DIM)
    first = vectors(10)
    array.append(first)
    assert array.view().base is first or array.view() is first
    early = array.view()
    second = vectors(5, seed=9)
    array.append(second)
    assert np.array_equal(array.view(), np.concatenate([first, second]))
    assert np.array_equal(early, first)  # a reader's older view is unchanged
    second[:] = 0
    assert np.array_equal(array.view()[10:], vectors(5, seed=9))


@pytest.mark.parametrize(
    "block",
    [
        vectors(20)[5:15],  # a view of a larger array
        np.frombuffer(vectors(10).tobytes(), np.float32).reshape(10, DIM),  # read-only bytes
        vectors(10).astype(np.float64),  # another dtype
        np.asfortranarray(vectors(10)),  # not C-contiguous
    ],
    ids=["view", "read-only", "float64", "fortran"],
)
def test_blocks_that_are_not_owned_outright_are_copied(block: np.ndarray) -> None:
    array = GrowableArray(np.float32, DIM)
    expected = np.array(block, dtype=np.float32)
    array.append(block)
    assert not np.shares_memory(array.view(), block)
    assert array.view().dtype == np.float32
    assert np.array_equal(array.view(), expected)


def test_empty_first_block_keeps_the_buffer() -> None:
    array = GrowableArray(np.int64)
    array.append(np.zeros(0, np.int64))
    array.append(np.arange(3))
    assert array.view().tolist() == [0, 1, 2]
