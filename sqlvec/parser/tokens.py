"""The sqlvec tokenizer: Postgres' tokenizer plus pgvector's distance operators.

sqlglot's TokenType is a closed IntEnum, and the base tokenizer already maps `<->` to
LR_ARROW and `<=>` to NULLSAFE_EQ (MySQL's null-safe equality), so the dialect claims all the
operators with token types of its own. Their values sit far above TokenType's so a token type
can never compare equal to one of sqlglot's.
"""

from __future__ import annotations

import typing as t
from enum import IntEnum

from sqlglot.dialects.postgres import Postgres
from sqlglot.tokenizer_core import TokenizerCore
from sqlglot.tokens import TokenType


class VectorTokenType(IntEnum):
    L2 = 10_001
    NEG_INNER_PRODUCT = 10_002
    COSINE = 10_003
    L1 = 10_004
    HAMMING = 10_005
    JACCARD = 10_006


# Operator text -> token type; also read by the parser to build its operator table.
VECTOR_OPERATOR_TOKENS: dict[str, VectorTokenType] = {
    "<->": VectorTokenType.L2,
    "<#>": VectorTokenType.NEG_INNER_PRODUCT,
    "<=>": VectorTokenType.COSINE,
    "<+>": VectorTokenType.L1,
    "<~>": VectorTokenType.HAMMING,
    "<%>": VectorTokenType.JACCARD,
}


class _SqlvecTokenizerCore(TokenizerCore):
    __slots__ = ()

    def _scan_string(self, start: str) -> bool:
        # `$1,$2` is two parameters: a dollar-quote tag never starts with a digit, but sqlglot
        # reads `1,` as a tag and reports an unterminated string (psycopg sends `(%s,%s)` as
        # `($1,$2)`).
        if start == "$" and self._peek.isdigit():
            self._add(self.heredoc_string_alternative)  # what `$1 ` already becomes
            return True
        return bool(super()._scan_string(start))


class SqlvecTokenizer(Postgres.Tokenizer):
    KEYWORDS = {
        **Postgres.Tokenizer.KEYWORDS,
        **t.cast(dict[str, TokenType], VECTOR_OPERATOR_TOKENS),
    }
    # Postgres' tokenizer swallows the rest of a RESET statement into one string; the parser
    # reads RESET itself (see Parser.WORD_STATEMENT_PARSERS).
    KEYWORDS.pop("RESET")
    # And EXPLAIN: its statement is parsed, not kept as text (Parser.WORD_STATEMENT_PARSERS).
    KEYWORDS.pop("EXPLAIN", None)

    # Likewise SHOW: parsed into Show / ShowCollections rather than an opaque Command.
    COMMANDS = Postgres.Tokenizer.COMMANDS - {TokenType.SHOW}

    def _init_core(self) -> TokenizerCore:
        core = super()._init_core()
        core.__class__ = _SqlvecTokenizerCore
        return core
