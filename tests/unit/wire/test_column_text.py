"""Whole-column text encoding gives exactly what encoding each value gives."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from sqlvec.types import FLOAT8, INT4, INT8, TEXT
from sqlvec.wire import column_text
from sqlvec.wire.codecs import TEXT_FORMAT, float8_text_bytes, result_encoders
from sqlvec.wire.column_text import encoded_column
from sqlvec.wire.handler import ColumnDesc


def one_by_one(pg_type: Any, values: list[Any]) -> list[bytes | None]:
    (encode,) = result_encoders([ColumnDesc("c", pg_type)], [TEXT_FORMAT])
    return [None if v is None else encode(v) for v in values]


def at_once(pg_type: Any, values: list[Any]) -> list[bytes | None]:
    (encode,) = result_encoders([ColumnDesc("c", pg_type)], [TEXT_FORMAT])
    return encoded_column(encode, values)


RNG = np.random.default_rng(4)
FLOAT_COLUMNS = {
    "distances": (RNG.random(2000) * 5).tolist(),
    "every fixed-notation magnitude": (10 ** RNG.uniform(-4, 15, 2000)).tolist(),
    "negative": (-(10 ** RNG.uniform(-4, 15, 500))).tolist(),
    "whole numbers": [5.0, 100.0, -3.0, 123456789012345.0, 0.5, 1e-4],
    "numpy float64": list(np.float64(RNG.random(50))),
    "with NULL": [1.5, None, 2.25],
    "outside fixed notation": [1e15, 1e-5, 0.0, -0.0, 1.5e300, 5e-324],
    "not finite": [math.inf, -math.inf, math.nan, 1.0],
    # A few values outside among many inside: each written alone, the rest at once.
    "a search by a stored vector (distance 0 first)": [0.0, *(RNG.random(300) + 0.5).tolist()],
    "scattered specials": [*(RNG.random(100) * 3).tolist(), math.nan, None, 1e20, -0.0, 2.0],
}


@pytest.mark.parametrize("name", FLOAT_COLUMNS)
def test_float8_columns_read_as_float8out(name: str) -> None:
    values = FLOAT_COLUMNS[name]
    assert at_once(FLOAT8, values) == one_by_one(FLOAT8, values)


@pytest.mark.parametrize(
    ("pg_type", "values"),
    [
        (INT8, [0, -1, 2**62, 7]),
        (INT4, [3, None, -4]),
        (INT8, [np.int64(9), True]),
        (INT8, [-(2**63), 2**63 - 1, 0]),  # int64's ends, through orjson
        (INT8, [2**63, 2**64 - 1]),  # beyond int64: numpy holds them as uint64
        (INT8, [2**64, 1]),  # beyond 64 bits: each value on its own
        (INT8, []),
        (INT4, [True, False]),  # bools: 1 and 0, never orjson's true/false
        (INT4, RNG.integers(-(10**6), 10**6, 3000).tolist()),
        (TEXT, ["a", None, "é"]),
    ],
)
def test_other_columns_read_as_each_value(pg_type: Any, values: list[Any]) -> None:
    assert at_once(pg_type, values) == one_by_one(pg_type, values)


def test_float8_text_is_postgres_notation() -> None:
    assert at_once(FLOAT8, [5.0, 0.25, 1e-4]) == [b"5", b"0.25", b"0.0001"]


def test_a_few_values_outside_fixed_notation_keep_the_column_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One distance of 0 used to send the whole column down the per-value path (ten times
    the time on a LATERAL batch searching by stored vectors)."""
    values = [0.0, *(RNG.random(1000) + 0.5).tolist()]
    written: list[Any] = []

    def counted(value: Any) -> bytes:
        written.append(value)
        return float8_text_bytes(value)

    monkeypatch.setattr(column_text, "float8_text_bytes", counted)
    assert column_text._float8_texts(values) == one_by_one(FLOAT8, values)
    assert written == [0.0]  # the 0 alone
