"""What a Bind message carries, decoded against its statement: parameter values and result
formats. Shared by the message-by-message path (protocol) and the pipelined one (pipelined)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlvec.errors import InvalidParameterValue, ProtocolError
from sqlvec.types import PgType
from sqlvec.wire import messages as msg
from sqlvec.wire.codecs import BINARY_FORMAT, TEXT_FORMAT, decode_parameter
from sqlvec.wire.handler import StatementDesc


def decode_parameters(bind: msg.Bind, param_types: Sequence[PgType]) -> list[Any]:
    if len(bind.params) != len(param_types):
        raise ProtocolError(
            f"bind message supplies {len(bind.params)} parameters, "
            f'but prepared statement "{bind.statement}" requires {len(param_types)}'
        )
    formats = expand_format_codes(
        bind.param_formats,
        len(bind.params),
        f"bind message has {len(bind.param_formats)} parameter formats "
        f"but {len(bind.params)} parameters",
    )
    return [
        decode_parameter(data, pgtype, format_code, position)
        for position, (data, pgtype, format_code) in enumerate(
            zip(bind.params, param_types, formats, strict=True), start=1
        )
    ]


def result_formats(bind: msg.Bind, statement: StatementDesc) -> list[int]:
    """One format code per result column of the statement."""
    column_count = len(statement.columns) if statement.columns is not None else 0
    return expand_format_codes(
        bind.result_formats,
        column_count,
        f"bind message has {len(bind.result_formats)} result formats "
        f"but query has {column_count} columns",
    )


def expand_format_codes(codes: list[int], count: int, mismatch: str) -> list[int]:
    """Format codes per value: none means all text, one applies to all, else one per value."""
    for code in codes:
        if code not in (TEXT_FORMAT, BINARY_FORMAT):
            raise InvalidParameterValue(f"unsupported format code: {code}")
    if not codes:
        return [TEXT_FORMAT] * count
    if len(codes) == 1:
        return codes * count
    if len(codes) != count:
        raise ProtocolError(mismatch)
    return list(codes)
