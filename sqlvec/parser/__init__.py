"""SQL text -> sqlglot ASTs in the `sqlvec` dialect, with Postgres-shaped syntax errors.

`parse` splits a (simple-protocol) query string into its statements; `parse_one` is for the
extended protocol's Parse message, which takes exactly one.
"""

from __future__ import annotations

import threading

from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, TokenError
from sqlglot.tokens import Token

from sqlvec.errors import InternalError, StatementTooComplex, SyntaxError
from sqlvec.parser.diagnostics import PositionedParseError, syntax_error, tokenize_error
from sqlvec.parser.dialect import DIALECT, Sqlvec
from sqlvec.parser.grammar import SqlvecParser
from sqlvec.parser.nodes import (
    AnalyzeCollection,
    Compact,
    CosineDistance,
    CreateCollection,
    CreatePartition,
    CreateVectorIndex,
    DefaultValue,
    DropCollection,
    DropPartition,
    DropVectorIndex,
    Explain,
    Flush,
    HammingDistance,
    JaccardDistance,
    L1Distance,
    L2Distance,
    NegInnerProduct,
    ResetVariable,
    Savepoint,
    SetVariable,
    Show,
    ShowCollections,
    ShowPartitions,
    VectorDistance,
)
from sqlvec.parser.tokens import SqlvecTokenizer

__all__ = [
    "DIALECT",
    "AnalyzeCollection",
    "Compact",
    "CosineDistance",
    "CreateCollection",
    "CreatePartition",
    "CreateVectorIndex",
    "DefaultValue",
    "DropCollection",
    "DropPartition",
    "DropVectorIndex",
    "Explain",
    "Flush",
    "HammingDistance",
    "JaccardDistance",
    "L1Distance",
    "L2Distance",
    "NegInnerProduct",
    "ResetVariable",
    "Savepoint",
    "SetVariable",
    "Show",
    "ShowCollections",
    "ShowPartitions",
    "Sqlvec",
    "VectorDistance",
    "parse",
    "parse_one",
]

# Tokenizer and parser objects hold per-parse state, so each thread gets its own pair; making
# them costs a few microseconds, which the hot path need not pay on every query.
_local = threading.local()


def _workers() -> tuple[SqlvecTokenizer, SqlvecParser]:
    workers = getattr(_local, "workers", None)
    if workers is None:
        tokenizer = SqlvecTokenizer(dialect=DIALECT)
        parser = SqlvecParser(dialect=DIALECT, error_level=ErrorLevel.IMMEDIATE)
        workers = _local.workers = (tokenizer, parser)
    return workers


def parse(sql: str) -> list[exp.Expr]:
    """Every statement in `sql`, in order; [] when there is none (blank, `;`, comments only).

    Raises sqlvec.errors.SyntaxError (42601) with Postgres' wording and position.
    """
    tokenizer, parser = _workers()
    tokens = _tokenize(tokenizer, sql)
    try:
        statements = parser.parse(tokens, sql)
    except PositionedParseError as exc:
        raise syntax_error(sql, tokens, exc) from exc
    except RecursionError as exc:
        raise StatementTooComplex("stack depth limit exceeded") from exc
    except ParseError as exc:
        # A few sqlglot helpers (e.g. DataType.build) raise a ParseError of their own.
        raise SyntaxError("syntax error") from exc
    except Exception as exc:
        # A bug (ours or sqlglot's) on this input: XX000, and the traceback stays chained.
        raise InternalError(f"parser failure: {type(exc).__name__}: {exc}") from exc
    return [s for s in statements if s is not None and not isinstance(s, exp.Semicolon)]


def parse_one(sql: str) -> exp.Expr:
    """Exactly one statement (a Parse message's query), else SyntaxError."""
    statements = parse(sql)
    if len(statements) > 1:
        # Postgres' own wording for a multi-statement Parse message.
        raise SyntaxError("cannot insert multiple commands into a prepared statement")
    if not statements:
        raise SyntaxError("syntax error at end of input", position=len(sql) + 1)
    return statements[0]


def _tokenize(tokenizer: SqlvecTokenizer, sql: str) -> list[Token]:
    try:
        return tokenizer.tokenize(sql)
    except TokenError as exc:
        # TokenError only carries an excerpt; the tokenizer core still knows where the
        # failing token (an unterminated string, identifier or comment) began.
        raise tokenize_error(sql, tokenizer._core._start) from exc
