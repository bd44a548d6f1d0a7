"""pgvector's text input: the fast JSON path and strtof's full grammar read the same values.

`parse_vector` reads plain decimals with orjson and falls back to the full grammar (the regular
expression and float()) for what JSON refuses; both must give the same float32 vector, signs of
zero included, and the same errors.
"""

from __future__ import annotations

import numpy as np
import pytest

from sqlvec.errors import SqlvecError
from sqlvec.types import PgType
from sqlvec.vectors import parse_plain_vector, parse_vector
from sqlvec.wire.codecs import TEXT_FORMAT, VECTOR_OID, decode_parameter

VECTOR = PgType(VECTOR_OID, "vector", -1)


def _as_bind_parameter(text: str) -> np.ndarray:
    """A text-format Bind parameter of type vector: the one-pass reader, else parse_vector."""
    decoded: np.ndarray = decode_parameter(text.encode(), VECTOR, TEXT_FORMAT, 1)
    return decoded


SPELLINGS = [
    ("[1,2,3]", [1, 2, 3]),
    ("[ 1 , 2.5 ,\t-3 ]", [1, 2.5, -3]),
    ("[1e5,2E-3,-4.5e+2]", [1e5, 2e-3, -450]),
    ("[-0]", [-0.0]),  # JSON's integer 0 has no sign: taken by the full grammar
    ("[-0.0,0,-000]", [-0.0, 0.0, -0.0]),
    ("[-0e0,1]", [-0.0, 1]),
    ("[1.,.5,+1,01]", [1, 0.5, 1, 1]),  # strtof's spellings that JSON refuses
    ("[0.1,0.2]", [np.float32(0.1), np.float32(0.2)]),
    ("[123456789012345678901234567890]", [np.float32(1.2345679e29)]),
    ("[3.4028235e+38]", [np.finfo(np.float32).max]),  # FLT_MAX's own text form
    ("[1e-50]", [0.0]),  # underflows to zero, as strtof (pgvector accepts it)
]


@pytest.mark.parametrize(("text", "expected"), SPELLINGS, ids=[t for t, _ in SPELLINGS])
def test_every_spelling_reads_as_strtof_would(text: str, expected: list[float]) -> None:
    for vector in (parse_vector(text), _as_bind_parameter(text)):
        assert vector.dtype == np.float32
        np.testing.assert_array_equal(vector, np.array(expected, dtype=np.float32))
        assert list(np.signbit(vector)) == list(np.signbit(np.array(expected, dtype=np.float32)))


@pytest.mark.parametrize(
    "text",
    [
        "[-0]",
        "[1.,2]",
        "[+1]",
        "[1e39]",
        "[1e400]",
        "[NaN]",
        "[1,null]",
        '["1"]',
        "[[1]]",
        "[true]",
        "1,2",
        "[1,2",
        "[1][2]",
        "[]",
        "[1,,2]",
        " [1]x",
        "[1\x002]",
    ],
)
def test_the_one_pass_reader_leaves_the_rest_to_parse_vector(text: str) -> None:
    """What JSON reads differently from strtof (or not at all), and every error, is left."""
    assert parse_plain_vector(text.encode()) is None


def test_the_one_pass_reader_keeps_signed_zeros() -> None:
    vector = parse_plain_vector(b"[-0.0, 0.0, 1e-50, -1e-50, 2]")
    assert vector is not None
    assert list(np.signbit(vector)) == [True, False, False, True, False]


def test_random_vectors_read_back_bit_for_bit() -> None:
    rng = np.random.default_rng(11)
    for scale in (1e-30, 1e-3, 1.0, 1e3, 1e30):
        values = (rng.standard_normal(384) * scale).astype(np.float32)
        for text in (
            "[" + ",".join(map(str, values.tolist())) + "]",  # float64 repr
            "[" + ",".join(f"{v:.9e}" for v in values.tolist()) + "]",
        ):
            np.testing.assert_array_equal(parse_vector(text), values)
            plain = parse_plain_vector(text.encode())
            assert plain is not None
            np.testing.assert_array_equal(plain, values)


@pytest.mark.parametrize(
    ("text", "sqlstate"),
    [
        ("[1e39]", "22003"),  # out of float4 range
        ("[1e400]", "22003"),  # out of double range: JSON refuses, strtof gives HUGE_VAL
        ("[1,,2]", "22P02"),
        ("[1,]", "22P02"),
        ("[1e]", "22P02"),
        ("[--1]", "22P02"),
        ("[1 2]", "22P02"),
        ("[1,NaN]", "22000"),
        ("[]", "22000"),
    ],
)
def test_bad_spellings_give_pgvectors_errors(text: str, sqlstate: str) -> None:
    for parse in (parse_vector, _as_bind_parameter):
        with pytest.raises(SqlvecError) as caught:
            parse(text)
        assert caught.value.sqlstate == sqlstate
