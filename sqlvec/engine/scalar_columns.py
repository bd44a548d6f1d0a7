"""numpy views of a collection's scalar columns, for predicates evaluated in memory.

The in-memory copy keeps scalar values as Python lists (cheap appends, any type). A filtered
search compares whole columns at once, so numeric columns get a numpy array and a NULL mask,
text columns dictionary codes (equality and IN become integer comparisons). The arrays are
built on first use and then extended with the rows appended since; an UPDATE of a column
drops that column's arrays.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

NULL_CODE = -1


@dataclass
class NumericColumn:
    values: np.ndarray
    nulls: np.ndarray


@dataclass
class TextColumn:
    codes: np.ndarray  # NULL_CODE where NULL
    dictionary: dict[str, int] = field(default_factory=dict)

    def code_of(self, value: str) -> int | None:
        return self.dictionary.get(value)


ScalarColumn = NumericColumn | TextColumn


class ScalarArrays:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._columns: dict[str, ScalarColumn] = {}

    def column(self, name: str, values: Sequence[Any], size: int, text: bool) -> ScalarColumn:
        """The first `size` values of a column as arrays (the caller's snapshot size)."""
        with self._lock:
            built = self._columns.get(name)
            have = 0 if built is None else _length(built)
            if built is None or have < size:
                built = _extend(built, values[have:size], text)
                self._columns[name] = built
            return _prefix(built, size)

    def forget(self, name: str) -> None:
        with self._lock:
            self._columns.pop(name, None)


def _length(column: ScalarColumn) -> int:
    return len(column.codes) if isinstance(column, TextColumn) else len(column.values)


def _prefix(column: ScalarColumn, size: int) -> ScalarColumn:
    if isinstance(column, TextColumn):
        return TextColumn(column.codes[:size], column.dictionary)
    return NumericColumn(column.values[:size], column.nulls[:size])


def _extend(built: ScalarColumn | None, tail: Sequence[Any], text: bool) -> ScalarColumn:
    if text:
        dictionary = built.dictionary if isinstance(built, TextColumn) else {}
        codes = _text_codes(tail, dictionary)
        old = built.codes if isinstance(built, TextColumn) else np.empty(0, np.int32)
        return TextColumn(np.concatenate([old, codes]), dictionary)
    nulls = np.fromiter((v is None for v in tail), dtype=np.bool_, count=len(tail))
    values = np.asarray([0 if v is None else v for v in tail])
    if values.dtype == object or values.dtype.kind not in "biuf":
        values = values.astype(np.float64)
    if isinstance(built, NumericColumn):
        return NumericColumn(
            np.concatenate([built.values, values]), np.concatenate([built.nulls, nulls])
        )
    return NumericColumn(values, nulls)


def _text_codes(values: Sequence[Any], dictionary: dict[str, int]) -> np.ndarray:
    codes = np.empty(len(values), dtype=np.int32)
    for i, value in enumerate(values):
        if value is None:
            codes[i] = NULL_CODE
        else:
            codes[i] = dictionary.setdefault(value, len(dictionary))
    return codes
