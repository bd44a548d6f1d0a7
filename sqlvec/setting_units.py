"""Time settings in milliseconds, parsed and shown as Postgres does (`statement_timeout`).

Postgres accepts an integer or a decimal number, optionally followed by a unit (`us`, `ms`,
`s`, `min`, `h`, `d`; case-sensitive, spaces allowed before it); without a unit the number is
in milliseconds. The value is rounded to whole milliseconds. SHOW prints the largest unit that
divides the value exactly (`2s`, `1min`, `1500ms`), and `0` without a unit.
"""

from __future__ import annotations

import re

from sqlvec.errors import InvalidParameterValue

_UNITS_MS: dict[str, float] = {
    "d": 86_400_000,
    "h": 3_600_000,
    "min": 60_000,
    "s": 1_000,
    "ms": 1,
    "us": 0.001,
}
_UNITS_HINT = 'Valid units for this parameter are "us", "ms", "s", "min", "h", and "d".'
_VALUE = re.compile(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z]*)\s*")
_INT_MAX = 2**31 - 1


def parse_milliseconds(name: str, text: str, low: int, high: int) -> int:
    """A time setting's value in milliseconds; 22023 for bad syntax, units or ranges."""
    value = text.strip("'")
    match = _VALUE.fullmatch(value)
    if match is None:
        raise _invalid(name, value)
    number, unit = match.groups()
    if unit and unit not in _UNITS_MS:
        raise _invalid(name, value, _UNITS_HINT)
    milliseconds = round(float(number) * _UNITS_MS.get(unit, 1))  # half to even, as rint()
    if not -_INT_MAX - 1 <= milliseconds <= _INT_MAX:
        raise _invalid(name, value, "Value exceeds integer range.")
    if not low <= milliseconds <= high:
        raise InvalidParameterValue(
            f"{milliseconds} ms is outside the valid range for parameter "
            f'"{name}" ({low} ms .. {high} ms)'
        )
    return milliseconds


def format_milliseconds(milliseconds: int) -> str:
    """How SHOW prints a time setting: the largest unit that divides it exactly."""
    if milliseconds <= 0:
        return str(milliseconds)
    for unit, size in _UNITS_MS.items():
        if size >= 1 and milliseconds % size == 0:
            return f"{milliseconds // int(size)}{unit}"
    return f"{milliseconds}ms"


def _invalid(name: str, value: str, hint: str | None = None) -> InvalidParameterValue:
    return InvalidParameterValue(f'invalid value for parameter "{name}": "{value}"', hint=hint)
