"""The listening socket, and the read callback that answers a prepared query where it lands.

`asyncio.start_server` hands every read to the connection's task: the callback queues the
bytes and wakes the task, which the loop then runs as a step of its own. For a prepared query
(Bind, Describe, Execute, Sync in one packet, answered by `pipelined`), the futures, the
wake-up and the task step cost 12-24 us of CPU (measured A/B over the wire, 128-d kNN). So
the connection may give its protocol an `answer_inline` callback: called with each read while
the task waits at a message boundary with nothing buffered, it answers the packet on the spot
or declines, and whatever it did not answer takes the usual way. See `_Connection._answer_inline`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

Accept = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
# Given a read, answers what it can and returns the bytes left for the stream (all of them
# when it declines, none when it answered everything).
AnswerInline = Callable[[bytes], bytes]

_STREAM_LIMIT = 64 * 1024  # asyncio's default buffer limit for a StreamReader


class ConnectionProtocol(asyncio.StreamReaderProtocol):
    """A StreamReaderProtocol whose reads may be answered before they reach the stream."""

    def __init__(self, reader: asyncio.StreamReader, accept: Accept) -> None:
        super().__init__(reader, accept)
        self.answer_inline: AnswerInline | None = None

    def data_received(self, data: bytes) -> None:
        answer = self.answer_inline
        if answer is not None:
            data = answer(data)
            if not data:
                return
        super().data_received(data)


async def start_listener(host: str, port: int, accept: Accept) -> asyncio.Server:
    """`asyncio.start_server(accept, host, port)` with ConnectionProtocol connections."""
    loop = asyncio.get_running_loop()

    def connection() -> ConnectionProtocol:
        return ConnectionProtocol(asyncio.StreamReader(limit=_STREAM_LIMIT, loop=loop), accept)

    return await loop.create_server(connection, host, port)
