"""float4/float8 text output exactly as PostgreSQL's float4out/float8out (extra_float_digits=1).

PostgreSQL prints the shortest digits that read back as the same value (Ryu, src/common/d2s.c
and f2s.c), in fixed notation when the decimal exponent is in [-4, limit) - limit 15 for float8,
6 for float4 - and as `1.5e+20` otherwise. Python's repr and numpy's str also give shortest
digits but switch notation elsewhere (both at 16), and they differ in one more way: see
`_postgres_shortest`.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from typing import Any

import numpy as np

_FIXED_NOTATION_MIN = 1e-4
_FLOAT8_EXPONENT_LIMIT = 15
_FLOAT4_EXPONENT_LIMIT = 6
_SPECIALS = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
# Enough digits to hold any double of magnitude >= 1, and the sum of two, exactly.
_EXACT_DIGITS = 800


def float8_text(value: Any) -> str:
    """A float8 as PostgreSQL prints it: `1`, `0.5`, `1e+15`, `Infinity`, `NaN`."""
    number = float(value)
    shortest = repr(number)
    # The common case, with a fast path: no notation change and no halfway case (see below)
    # can occur in this range.
    if _FIXED_NOTATION_MIN <= abs(number) < 1e15:
        return shortest[:-2] if shortest.endswith(".0") else shortest
    if shortest in _SPECIALS:
        return _SPECIALS[shortest]
    neighbours = (math.nextafter(number, -math.inf), math.nextafter(number, math.inf))
    digits = _postgres_shortest(shortest, number, neighbours)
    return _layout(digits, _FLOAT8_EXPONENT_LIMIT)


def float4_text(value: Any) -> str:
    """A float4 as PostgreSQL prints it: `0.1`, `123456.7`, `1e+06`, `Infinity`."""
    number = np.float32(value)
    shortest = str(number)
    # float() first: numpy would compare against the float32 nearest to 1e-4 instead.
    if _FIXED_NOTATION_MIN <= abs(float(number)) < 1e6:
        return shortest[:-2] if shortest.endswith(".0") else shortest
    if shortest in _SPECIALS:
        return _SPECIALS[shortest]
    with np.errstate(over="ignore"):  # the neighbour of the largest float4 is infinity
        neighbours = (
            float(np.nextafter(number, np.float32(-np.inf))),
            float(np.nextafter(number, np.float32(np.inf))),
        )
    digits = _postgres_shortest(shortest, float(number), neighbours)
    return _layout(digits, _FLOAT4_EXPONENT_LIMIT)


def _postgres_shortest(shortest: str, value: float, neighbours: tuple[float, float]) -> str:
    """PostgreSQL's digits for `value`, given Python's or numpy's shortest repr of it.

    Python and numpy accept digits lying exactly halfway to a neighbouring float (a correct
    reader rounds the tie to the even mantissa); PostgreSQL's Ryu excludes those ends of the
    rounding interval and prints more digits instead. Ties only exist for magnitudes well
    above 1: below that, a halfway point needs more digits than any shortest form has.
    """
    if abs(value) < 1:
        return shortest
    candidate = shortest
    significant = len(Decimal(shortest).normalize().as_tuple().digits)
    while not _strictly_rounds_to(candidate, value, neighbours):
        candidate = f"{value:.{significant}e}"  # correctly rounded, one more digit
        significant += 1
    return candidate


def _strictly_rounds_to(text: str, value: float, neighbours: tuple[float, float]) -> bool:
    with localcontext(prec=_EXACT_DIGITS):
        exact = Decimal(value)
        lower_midpoint = (exact + Decimal(neighbours[0])) / 2
        upper_midpoint = (exact + Decimal(neighbours[1])) / 2
        return lower_midpoint < Decimal(text) < upper_midpoint


def _layout(shortest: str, exponent_limit: int) -> str:
    """Lay out shortest digits in PostgreSQL's notation for their decimal exponent."""
    decimal = Decimal(shortest)
    if decimal.is_zero():
        return "-0" if decimal.is_signed() else "0"
    decimal = decimal.normalize()
    sign, digits, exponent = decimal.as_tuple()
    assert isinstance(exponent, int)  # finite: NaN and infinities never get here
    decimal_exponent = len(digits) + exponent - 1
    if -4 <= decimal_exponent < exponent_limit:
        return format(decimal, "f")
    mantissa = str(digits[0])
    if len(digits) > 1:
        mantissa += "." + "".join(map(str, digits[1:]))
    return f"{'-' if sign else ''}{mantissa}e{decimal_exponent:+03d}"
