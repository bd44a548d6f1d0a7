"""The statement a session runs now, as a CancelRequest and `statement_timeout` see it.

Lives on the event loop: CancelRequests arrive there (on a connection of their own), and
the statement_timeout timer fires there. The statement itself runs on a worker thread inside
its `CancelScope` (sqlvec.engine.cancel), which does the interrupting.
"""

from __future__ import annotations

import asyncio

from sqlvec.engine.cancel import STATEMENT_TIMEOUT, USER_REQUEST, CancelScope

# How often an interrupt is sent again while the cancelled statement still runs DuckDB work:
# one that reached a cursor just before its query started was lost.
INTERRUPT_REPEAT_S = 0.05


class RunningStatement:
    def __init__(self) -> None:
        self._scope: CancelScope | None = None
        self._timer: asyncio.TimerHandle | None = None

    def begin(self, timeout_ms: int) -> CancelScope:
        """A statement starts; with a timeout above 0 it is cancelled when that has passed."""
        self.end()
        scope = CancelScope()
        self._scope = scope
        if timeout_ms > 0:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(timeout_ms / 1000, self._cancel, scope, STATEMENT_TIMEOUT)
        return scope

    def end(self) -> None:
        """The statement is over: a cancel that comes now does nothing."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._scope is not None:
            self._scope.end()
            self._scope = None

    def cancel(self) -> None:
        """A CancelRequest with this session's key: cancel the running statement, if any."""
        if self._scope is not None:
            self._cancel(self._scope, USER_REQUEST)

    def _cancel(self, scope: CancelScope, reason: str) -> None:
        scope.cancel(reason)
        asyncio.get_running_loop().call_later(INTERRUPT_REPEAT_S, self._repeat, scope)

    def _repeat(self, scope: CancelScope) -> None:
        if scope.interrupt():  # until no cursor of the statement is inside DuckDB any more
            asyncio.get_running_loop().call_later(INTERRUPT_REPEAT_S, self._repeat, scope)
