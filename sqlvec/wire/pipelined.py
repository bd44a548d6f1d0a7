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

from sqlvec.wire import messages as msg
from sqlvec.wire.bind import decode_parameters, result_formats
from sqlvec.wire.buffer import INT32, FrameReader, WriteBuffer
from sqlvec.wire.codecs import result_encoders
from sqlvec.wire.handler import ColumnDesc, QueryHandler, TransactionStatus

_ALL_ROWS = INT32.pack(0)
_EXECUTE_UNNAMED = b"\0" + _ALL_ROWS  # Execute: the unnamed portal, no row limit
_DESCRIBE_UNNAMED = b"P\0"  # Describe: the unnamed portal


def answer_pipelined(
    bind_body: bytes, frames: FrameReader, handler: QueryHandler, out: WriteBuffer
) -> bool:
    """Answer a Bind and the Describe/Execute/Sync after it in one step, writing the replies
    to `out`; False (nothing written or consumed) when they take the usual way."""
    following = _following(frames)
    if following is None:
        return False
    bind = msg.decode_frontend_message(b"B", bind_body)
    assert isinstance(bind, msg.Bind)
    if bind.portal:
        return False
    statement = handler.describe_statement(bind.statement)
    params = decode_parameters(bind, statement.param_types)
    formats = result_formats(bind, statement)
    result = handler.run_pipelined(bind.statement, params)
    if result is None:
        return False
    reply = WriteBuffer()
    reply.write_byte(_head(result.columns, formats, following == 3))
    if result.rows:
        assert result.columns is not None, "a result with rows needs columns"
        msg.write_data_rows(reply, result.rows, result_encoders(result.columns, formats))
    assert result.tag is not None
    reply.write_byte(_tail(result.tag, handler.transaction_status))
    frames.skip(following)
    out.write_bytes(reply.take())
    return True


# A reply's head (BindComplete, then RowDescription where a Describe asked) and its tail
# (CommandComplete, ReadyForQuery) are the same bytes at every execution of a prepared
# statement: encoded once. Heads are keyed by the identity of the statement's columns (the
# session gives the same list while its plan is current), which the entry keeps alive.
_MAX_KEPT = 1024
_heads: dict[tuple[int, tuple[int, ...], bool], tuple[object, bytes]] = {}
_tails: dict[tuple[str, TransactionStatus], bytes] = {}


def _head(columns: list[ColumnDesc] | None, formats: list[int], described: bool) -> bytes:
    key = (id(columns), tuple(formats), described)
    kept = _heads.get(key)
    if kept is not None and kept[0] is columns:
        return kept[1]
    head = WriteBuffer()
    msg.write_bind_complete(head)
    if described:
        msg.write_description(head, columns, formats)
    data = head.take()
    if len(_heads) >= _MAX_KEPT:
        _heads.clear()
    _heads[key] = (columns, data)
    return data


def _tail(tag: str, status: TransactionStatus) -> bytes:
    data = _tails.get((tag, status))
    if data is None:
        tail = WriteBuffer()
        msg.write_command_complete(tail, tag)
        msg.write_ready_for_query(tail, status)
        data = tail.take()
        if len(_tails) >= _MAX_KEPT:
            _tails.clear()
        _tails[(tag, status)] = data
    return data


def _following(frames: FrameReader) -> int | None:
    """How many of the next messages belong to the step: Execute and Sync (2), or Describe,
    Execute and Sync (3); None when what follows is anything else or not here yet."""
    ahead = frames.peek(3)
    types = b"".join(type_byte for type_byte, _ in ahead)
    if types == b"DES" and ahead[0][1] == _DESCRIBE_UNNAMED:
        execute, sync = ahead[1][1], ahead[2][1]
    elif types[:2] == b"ES":
        execute, sync = ahead[0][1], ahead[1][1]
    else:
        return None
    if execute != _EXECUTE_UNNAMED or sync:
        return None
    return 3 if types[0] == ord("D") else 2
