"""halfvec, bit and sparsevec codecs, in both formats and both directions, checked against the
encodings of pgvector's Python package (the client-side reference)."""

from __future__ import annotations

import numpy as np
import pytest
from pgvector import Bit, HalfVector, SparseVector

from sqlvec.errors import SqlvecError
from sqlvec.sparse import SparseValue
from sqlvec.types import BIT, BIT_ARRAY, HALFVEC, HALFVEC_ARRAY, SPARSEVEC, VARBIT, PgType
from sqlvec.wire.codecs import BINARY_FORMAT, TEXT_FORMAT, decode_parameter, result_encoders
from sqlvec.wire.handler import ColumnDesc


def encode(value: object, pgtype: PgType, format_code: int) -> bytes:
    (encoder,) = result_encoders([ColumnDesc("c", pgtype)], [format_code])
    return encoder(value)


def decode(data: bytes, pgtype: PgType, format_code: int) -> object:
    return decode_parameter(data, pgtype, format_code, 1)


def sqlstate(data: bytes, pgtype: PgType, format_code: int = TEXT_FORMAT) -> str:
    with pytest.raises(SqlvecError) as caught:
        decode(data, pgtype, format_code)
    return caught.value.sqlstate


HALF_VALUES = [[1.5, -2.0, 0.099975586], [65504.0], [0.0, 1e-7]]


@pytest.mark.parametrize("values", HALF_VALUES)
def test_halfvec_matches_pgvector(values: list[float]) -> None:
    reference = HalfVector(values)
    ours = np.asarray(values, dtype=np.float16).astype(np.float32)
    assert encode(ours, HALFVEC, BINARY_FORMAT) == reference.to_binary()
    decoded = decode(reference.to_binary(), HALFVEC, BINARY_FORMAT)
    assert np.array_equal(decoded, ours)
    text = encode(ours, HALFVEC, TEXT_FORMAT).decode()
    assert HalfVector.from_text(text).to_list() == reference.to_list()
    assert np.array_equal(decode(reference.to_text().encode(), HALFVEC, TEXT_FORMAT), ours)


def test_halfvec_rounds_to_float16_and_rejects_bad_input() -> None:
    assert encode(decode(b"[0.1]", HALFVEC, TEXT_FORMAT), HALFVEC, TEXT_FORMAT) == b"[0.099975586]"
    assert sqlstate(b"[1,2", HALFVEC) == "22P02"
    assert sqlstate(b"[70000]", HALFVEC) == "22003"
    assert sqlstate(b"[NaN]", HALFVEC) == "22000"
    assert sqlstate(b"[]", HALFVEC) == "22000"
    assert sqlstate(b"\x00\x02\x00\x00\x3c\x00", HALFVEC, BINARY_FORMAT) == "22P03"  # short
    assert sqlstate(b"\x00\x01\x00\x01\x3c\x00", HALFVEC, BINARY_FORMAT) == "22000"  # unused


@pytest.mark.parametrize("bits", ["1", "0101", "10110011", "101100111", "0" * 70])
def test_bit_matches_pgvector(bits: str) -> None:
    reference = Bit(bits)
    assert encode(bits, BIT, BINARY_FORMAT) == reference.to_binary()
    assert decode(reference.to_binary(), BIT, BINARY_FORMAT) == bits
    assert decode(reference.to_binary(), VARBIT, BINARY_FORMAT) == bits
    assert encode(bits, BIT, TEXT_FORMAT) == reference.to_text().encode()
    assert decode(bits.encode(), BIT, TEXT_FORMAT) == bits


def test_bit_input_forms_and_errors() -> None:
    assert decode(b"x1F", BIT, TEXT_FORMAT) == "00011111"
    assert decode(b"", BIT, TEXT_FORMAT) == ""
    assert sqlstate(b"0120", BIT) == "22P02"
    assert sqlstate(b"xZ", BIT) == "22P02"
    assert sqlstate(b"\x00\x00\x00\x09\xff", BIT, BINARY_FORMAT) == "22P03"  # 9 bits, 1 byte
    assert sqlstate(b"\xff\xff\xff\xff", BIT, BINARY_FORMAT) == "22P03"


SPARSE = [({0: 1.5, 2: 2.0}, 5), ({}, 3), ({999_999_999: -0.25}, 1_000_000_000)]


@pytest.mark.parametrize(("elements", "dim"), SPARSE)
def test_sparsevec_matches_pgvector(elements: dict[int, float], dim: int) -> None:
    reference = SparseVector(elements, dim)
    ours = decode(reference.to_binary(), SPARSEVEC, BINARY_FORMAT)
    assert isinstance(ours, SparseValue)
    assert ours.dim == dim and ours.indices.tolist() == reference.indices()
    assert ours.values.tolist() == reference.values()
    assert encode(ours, SPARSEVEC, BINARY_FORMAT) == reference.to_binary()
    assert decode(reference.to_text().encode(), SPARSEVEC, TEXT_FORMAT) == ours
    text = encode(ours, SPARSEVEC, TEXT_FORMAT).decode()
    assert SparseVector.from_text(text).to_binary() == reference.to_binary()


def test_sparsevec_text_follows_pgvector() -> None:
    value = decode(b"{3:2, 1:1.5, 2:0}/5", SPARSEVEC, TEXT_FORMAT)
    assert encode(value, SPARSEVEC, TEXT_FORMAT) == b"{1:1.5,3:2}/5"  # sorted, zeros dropped
    assert encode(decode(b"{}/4", SPARSEVEC, TEXT_FORMAT), SPARSEVEC, TEXT_FORMAT) == b"{}/4"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (b"[1,2]", "22P02"),
        (b"{1:1}", "22P02"),
        (b"{1:x}/3", "22P02"),
        (b"{0:1}/3", "22000"),  # index must be greater than zero
        (b"{4:1}/3", "22000"),  # beyond the dimensions
        (b"{1:1,1:2}/3", "22000"),  # duplicates
        (b"{1:NaN}/3", "22000"),
        (b"{}/0", "22000"),
        (b"{}/1000000001", "54000"),
    ],
)
def test_sparsevec_bad_text(text: bytes, code: str) -> None:
    assert sqlstate(text, SPARSEVEC) == code


def test_sparsevec_bad_binary() -> None:
    good = SparseVector({0: 1.0}, 3).to_binary()
    assert sqlstate(good[:-1], SPARSEVEC, BINARY_FORMAT) == "22P03"
    unused = good[:8] + b"\x00\x00\x00\x01" + good[12:]
    assert sqlstate(unused, SPARSEVEC, BINARY_FORMAT) == "22000"


def test_arrays_of_the_new_types() -> None:
    halves = [np.array([1, 2], np.float32), None, np.array([0.5], np.float32)]
    text = encode(halves, HALFVEC_ARRAY, TEXT_FORMAT)
    assert text == b'{"[1,2]",NULL,[0.5]}'  # quoted only where a comma needs it
    back = decode(text, HALFVEC_ARRAY, TEXT_FORMAT)
    assert isinstance(back, list) and back[1] is None
    assert np.array_equal(back[0], halves[0])
    binary = encode(halves, HALFVEC_ARRAY, BINARY_FORMAT)
    assert np.array_equal(decode(binary, HALFVEC_ARRAY, BINARY_FORMAT)[2], halves[2])
    assert encode(["101", "1"], BIT_ARRAY, TEXT_FORMAT) == b"{101,1}"
    assert decode(b"{101,1}", BIT_ARRAY, TEXT_FORMAT) == ["101", "1"]
    bits_binary = encode(["101", "1"], BIT_ARRAY, BINARY_FORMAT)
    assert decode(bits_binary, BIT_ARRAY, BINARY_FORMAT) == ["101", "1"]
