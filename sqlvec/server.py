"""The server: one Engine, an asyncio listener, a Session per connection."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlvec.engine.engine import Engine
from sqlvec.session import Session
from sqlvec.wire.listener import start_listener
from sqlvec.wire.protocol import serve_connection

log = logging.getLogger("sqlvec.server")


class Server:
    def __init__(self, data_dir: Path, host: str, port: int, workers: int | None = None) -> None:
        self.data_dir = data_dir
        self.host = host
        self.port = port
        # Faiss releases the GIL, so searches of different connections run in parallel here.
        self._pool = ThreadPoolExecutor(max_workers=workers or max(4, os.cpu_count() or 1))
        self._engine: Engine | None = None
        self._listener: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._next_process_id = 1000
        # Live sessions by their BackendKeyData, for CancelRequests.
        self._sessions: dict[tuple[int, int], Session] = {}

    async def start(self) -> None:
        self._engine = await asyncio.get_running_loop().run_in_executor(
            self._pool, Engine, self.data_dir
        )
        self._listener = await start_listener(self.host, self.port, self._accept)
        sockets = list(self._listener.sockets or [])
        if sockets:
            self.port = sockets[0].getsockname()[1]
        log.info("sqlvec listening on %s:%d, data in %s", self.host, self.port, self.data_dir)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._engine is not None
        self._next_process_id += 1
        session = Session(self._engine, self._pool, self._next_process_id)
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        self._sessions[session.backend_key] = session
        try:
            await serve_connection(reader, writer, session, cancel_callback=self._cancel)
        finally:
            del self._sessions[session.backend_key]
            if task is not None:
                self._connections.discard(task)

    def _cancel(self, process_id: int, secret_key: int) -> None:
        """A CancelRequest: a key that matches no session is ignored, as Postgres does."""
        session = self._sessions.get((process_id, secret_key))
        if session is not None:
            log.debug("cancel request for process %d", process_id)
            session.cancel()

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        if self._engine is not None:
            self._engine.close()
        self._pool.shutdown(wait=True)
        log.info("sqlvec stopped")


async def run(data_dir: Path, host: str, port: int) -> None:
    """Serve until SIGTERM or SIGINT, then close connections and the database cleanly."""
    server = Server(data_dir, host, port)
    await server.start()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()
    log.info("shutting down")
    await server.stop()
