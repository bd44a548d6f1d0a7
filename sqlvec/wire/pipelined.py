"""A prepared statement's execution answered in one step.

Drivers execute a prepared statement as Bind, Describe (portal), Execute and Sync sent together
(libpq's PQsendQueryPrepared, so psycopg; asyncpg and pgx alike). Taken message by message, the
bookkeeping between them - a portal made and dropped, four dispatches, the session's checks at
each - costs about as much as a small vector search. So when the three messages after a Bind
are already in hand and ask for exactly that (the unnamed portal, all its rows, then Sync), the
connection asks the handler for the whole result at once.

The handler answers only where the one step cannot differ from the four (a quick read outside
any transaction block, no notices); otherwise it declines, and any error raised on the way
sends the messages the usual way too, where it is reported as always. A read has no side
effects, so being tried twice changes nothing. tests/unit/wire/test_pipelined.py checks that
both ways write the same bytes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlvec.wire import messages as msg
from sqlvec.wire.bind import decode_parameters, result_formats
from sqlvec.wire.buffer import INT32, FrameReader, WriteBuffer
from sqlvec.wire.codecs import ValueEncoder, result_encoders
from sqlvec.wire.handler import ColumnDesc, QueryHandler, TransactionStatus

# What follows a Bind answered in one step, byte for byte: (Describe of the unnamed portal,)
# Execute of the unnamed portal with no row limit, and Sync.
_DESCRIBE = b"D" + INT32.pack(4 + 2) + b"P\0"
_EXECUTE_SYNC = b"E" + INT32.pack(4 + 5) + b"\0" + INT32.pack(0) + b"S" + INT32.pack(4)
_WITH_DESCRIBE = _DESCRIBE + _EXECUTE_SYNC
_FOLLOWING = (_WITH_DESCRIBE, _EXECUTE_SYNC)


def answer_pipelined(
    bind_body: bytes, frames: FrameReader, handler: QueryHandler, out: WriteBuffer
) -> bool:
    """Answer a Bind and the Describe/Execute/Sync after it in one step, writing the replies
    to `out`; False (nothing written or consumed) when they take the usual way."""
    following = _following(frames)
    if following is None:
        return False
    bind = msg.decode_bind(bind_body)
    if bind.portal:
        return False
    statement = handler.describe_statement(bind.statement)
    params = decode_parameters(bind, statement.param_types)
    formats = result_formats(bind, statement)
    result = handler.run_pipelined(bind.statement, params)
    if result is None:
        return False
    head = _head(result.columns, formats, following == len(_WITH_DESCRIBE))
    rows = msg.data_rows(result.rows, head.encoders) if result.rows else b""
    assert result.tag is not None
    frames.advance(following)
    out.write_bytes(head.data + rows + _tail(result.tag, handler.transaction_status))
    return True


@dataclass(slots=True)
class _Head:
    """A reply's head - BindComplete, then RowDescription where a Describe asked - and the
    encoders of its rows: the same at every execution of a prepared statement, made once."""

    columns: list[ColumnDesc] | None  # kept alive: the key holds its identity
    data: bytes
    encoders: list[ValueEncoder]


# Heads are keyed by the identity of the statement's columns (the session gives the same
# list while its plan is current), with the result formats and whether a Describe asked.
_MAX_KEPT = 1024
_heads: dict[tuple[int, tuple[int, ...], bool], _Head] = {}


def _head(columns: list[ColumnDesc] | None, formats: list[int], described: bool) -> _Head:
    key = (id(columns), tuple(formats), described)
    kept = _heads.get(key)
    if kept is not None and kept.columns is columns:
        return kept
    data = WriteBuffer()
    msg.write_bind_complete(data)
    if described:
        msg.write_description(data, columns, formats)
    encoders = result_encoders(columns, formats) if columns is not None else []
    head = _Head(columns, data.take(), encoders)
    if len(_heads) >= _MAX_KEPT:
        _heads.clear()
    _heads[key] = head
    return head


@functools.lru_cache(maxsize=_MAX_KEPT)
def _tail(tag: str, status: TransactionStatus) -> bytes:
    tail = WriteBuffer()
    msg.write_command_complete(tail, tag)
    msg.write_ready_for_query(tail, status)
    return tail.take()


def _following(frames: FrameReader) -> int | None:
    """How many bytes of the next messages belong to the step: Describe of the unnamed
    portal (when asked), Execute of all its rows and Sync, exactly as drivers send them; None
    when what follows is anything else or not here yet."""
    for messages in _FOLLOWING:
        if frames.starts_with(messages):
            return len(messages)
    return None
