"""The dense id -> position table behind kNN result lookups, and its fallbacks."""

from __future__ import annotations

import numpy as np

from sqlvec.engine.rows import DenseIdTable


def ids(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def test_lookup_of_an_empty_table_and_of_unknown_ids() -> None:
    table = DenseIdTable()
    assert table.lookup(ids(0, 5, -1)).tolist() == [-1, -1, -1]
    table.add(ids(3, 1), start=0)
    assert table.lookup(ids(1, 3, 2, 10**9, -7)).tolist() == [1, 0, -1, -1, -1]


def test_grows_and_forgets_removed_ids() -> None:
    table = DenseIdTable()
    table.add(ids(0, 1, 2), start=0)
    table.add(ids(50_000), start=3)
    table.remove(ids(1))
    assert table.lookup(ids(0, 1, 2, 50_000)).tolist() == [0, -1, 2, 3]


def test_sparse_or_negative_ids_turn_it_off() -> None:
    sparse = DenseIdTable()
    sparse.add(ids(1, 10**12), start=0)
    assert sparse.lookup(ids(1)) is None  # the caller falls back to its dictionary
    negative = DenseIdTable()
    negative.add(ids(-1, 2), start=0)
    assert negative.lookup(ids(2)) is None
