"""Turning sqlglot's tokenizer and parser failures into Postgres-shaped 42601 errors.

Postgres says `syntax error at or near "<token>"` with the 1-based character position of that
token in the whole query string, or `syntax error at end of input`. sqlglot's ParseError only
carries line/column and a highlighted excerpt, so the parser raises PositionedParseError, which
keeps the offending token itself (its `start` is an offset into the full string).
"""

from __future__ import annotations

import bisect

from sqlglot.errors import ParseError
from sqlglot.tokens import Token

from sqlvec.errors import SyntaxError


class PositionedParseError(ParseError):
    """A parse failure at `token`, or at the end of the statement after `after` (token=None)."""

    def __init__(self, message: str, token: Token | None, after: Token | None) -> None:
        where = token or after
        # The same `errors` shape sqlglot's own ParseError.new gives (parse_into reads it).
        detail = {
            "description": message,
            "line": where.line if where else None,
            "col": where.col if where else None,
            "start_context": "",
            "highlight": where.text if where else "",
            "end_context": "",
            "into_expression": None,
        }
        super().__init__(message, [detail])
        self.token = token
        self.after = after


def syntax_error(sql: str, tokens: list[Token], error: PositionedParseError) -> SyntaxError:
    token = error.token or _token_after(tokens, error.after)
    if token is None:
        return SyntaxError("syntax error at end of input", position=len(sql) + 1)
    text = sql[token.start : token.end + 1]
    return SyntaxError(f'syntax error at or near "{text}"', position=token.start + 1)


def _token_after(tokens: list[Token], after: Token | None) -> Token | None:
    """The first token past `after`: the `;` that ended a statement too early, if any."""
    if after is None:
        return tokens[0] if tokens else None
    index = bisect.bisect_right([token.start for token in tokens], after.start)
    return tokens[index] if index < len(tokens) else None


# What an unterminated token starts with -> Postgres' wording for it.
_UNTERMINATED = (
    ("/*", "unterminated /* comment"),
    ("$", "unterminated dollar-quoted string"),
    ('"', "unterminated quoted identifier"),
    ("'", "unterminated quoted string"),
    ("E'", "unterminated quoted string"),
    ("e'", "unterminated quoted string"),
    ("B'", "unterminated bit string literal"),
    ("b'", "unterminated bit string literal"),
    ("X'", "unterminated hexadecimal string literal"),
    ("x'", "unterminated hexadecimal string literal"),
    ("U&'", "unterminated quoted string"),
    ("u&'", "unterminated quoted string"),
)


def tokenize_error(sql: str, start: int) -> SyntaxError:
    """A tokenizer failure in the token that begins at offset `start`."""
    rest = sql[start:]
    for prefix, wording in _UNTERMINATED:
        if rest.startswith(prefix):
            return SyntaxError(f'{wording} at or near "{rest}"', position=start + 1)
    token_text = rest.split(None, 1)[0] if rest.strip() else ""
    if not token_text:
        return SyntaxError("syntax error at end of input", position=len(sql) + 1)
    return SyntaxError(f'syntax error at or near "{token_text}"', position=start + 1)
