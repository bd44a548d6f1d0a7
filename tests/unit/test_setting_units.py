"""Time settings: Postgres' units, rounding, ranges and messages, and how SHOW prints them."""

from __future__ import annotations

import pytest

from sqlvec.errors import InvalidParameterValue
from sqlvec.setting_units import format_milliseconds, parse_milliseconds

MAX = 2**31 - 1


@pytest.mark.parametrize(
    ("text", "milliseconds"),
    [("0", 0), ("100", 100), ("'100'", 100), ("100ms", 100), ("2s", 2000), ("2 s", 2000),
     (" 1min ", 60000), ("1.5s", 1500), ("1h", 3600000), ("1d", 86400000), ("2500us", 2),
     ("1e3", 1000), ("0.5", 0), ("2147483647", MAX)],
)  # fmt: skip
def test_parse(text: str, milliseconds: int) -> None:
    assert parse_milliseconds("statement_timeout", text, 0, MAX) == milliseconds


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        ("abc", 'invalid value for parameter "statement_timeout": "abc"', None),
        ("", 'invalid value for parameter "statement_timeout": ""', None),
        ("1 2", 'invalid value for parameter "statement_timeout": "1 2"', None),
        ("5S", 'invalid value for parameter "statement_timeout": "5S"', "Valid units"),
        ("5 sec", 'invalid value for parameter "statement_timeout": "5 sec"', "Valid units"),
        ("3000000000", 'invalid value for parameter "statement_timeout": "3000000000"', "Value"),
        ("-1", '-1 ms is outside the valid range for parameter "statement_timeout" '
         "(0 ms .. 2147483647 ms)", None),
    ],
)  # fmt: skip
def test_parse_errors(text: str, message: str, hint: str | None) -> None:
    with pytest.raises(InvalidParameterValue) as caught:
        parse_milliseconds("statement_timeout", text, 0, MAX)
    assert caught.value.message == message
    assert caught.value.sqlstate == "22023"
    if hint is None:
        assert caught.value.hint is None
    else:
        assert caught.value.hint is not None and caught.value.hint.startswith(hint)


@pytest.mark.parametrize(
    ("milliseconds", "shown"),
    [(0, "0"), (1, "1ms"), (1500, "1500ms"), (2000, "2s"), (90000, "90s"), (60000, "1min"),
     (7200000, "2h"), (86400000, "1d"), (MAX, "2147483647ms")],
)  # fmt: skip
def test_format(milliseconds: int, shown: str) -> None:
    assert format_milliseconds(milliseconds) == shown
