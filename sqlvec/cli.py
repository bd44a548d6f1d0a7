"""`sqlvec serve`: the command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from sqlvec import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sqlvec", description="A vector database that speaks the PostgreSQL wire protocol."
    )
    parser.add_argument("--version", action="version", version=f"sqlvec {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the PostgreSQL protocol")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=5433, help="TCP port (5433)")
    serve.add_argument("--data", type=Path, default=Path("data"), help="data directory (./data)")
    serve.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)  # its CPU probing is noise
    # sqlglot recurses about 20 frames per nesting level of an expression.
    sys.setrecursionlimit(10_000)
    if args.command == "serve":
        from sqlvec.server import run

        _event_loop_runner()(run(args.data, args.host, args.port))
    return 0


def _event_loop_runner() -> Callable[[Coroutine[Any, Any, None]], None]:
    """uvloop where installed: its socket I/O costs about half of asyncio's per round trip."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; plain asyncio still works
        return asyncio.run
    return uvloop.run


if __name__ == "__main__":
    sys.exit(main())
