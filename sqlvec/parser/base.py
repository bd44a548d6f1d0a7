"""Helpers shared by the sqlvec parser's statement mixins: names, setting values, options.

Postgres reads setting names, option keys and savepoint names as plain identifiers (any word,
keywords included), and setting values as a small closed grammar (strings, signed numbers,
words). sqlglot's expression parser is far more permissive (`SET x = a + b` would become an
arithmetic tree), so these rules are written out here. `WITH (key = value, ...)` options
(CREATE COLLECTION, CREATE INDEX) use the same values.
"""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.parsers.postgres import PostgresParser
from sqlglot.tokens import TokenType

from sqlvec.parser.nodes import DefaultValue

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*\Z")

# Quoted forms a setting value may take: 'text' and $$text$$ (E'...' is a BYTE_STRING).
_STRING_TOKENS = frozenset({TokenType.STRING, TokenType.HEREDOC_STRING, TokenType.BYTE_STRING})
_SIGNS = frozenset({TokenType.PLUS, TokenType.DASH})


class SqlvecParserBase(PostgresParser):
    def _peek_word(self) -> str:
        """The current token as an upper-case bare word, or '' when it is not one."""
        token = self._curr
        excluded = token.token_type in self.TEXT_MATCH_EXCLUDED_TOKENS
        if token and not excluded and _WORD.match(token.text):
            return token.text.upper()
        return ""

    def _parse_name_word(self, fold: bool = True) -> str | None:
        """One identifier as Postgres folds it: bare words lower-cased, quoted kept as written."""
        token = self._curr
        if token.token_type == TokenType.IDENTIFIER:
            self._advance()
            return token.text
        if self._peek_word():
            self._advance()
            return token.text.lower() if fold else token.text
        return None

    def _parse_dotted_name(self, fold: bool = True) -> str | None:
        """`word[.word...]`, lower-cased: a setting name such as `hnsw.ef_search`.

        fold=False keeps every word as written (an option key's original case).
        """
        parts: list[str] = []
        while True:
            word = self._parse_name_word(fold=fold)
            if word is None:
                return None
            parts.append(word.lower() if fold else word)
            if not self._match(TokenType.DOT):
                return ".".join(parts)

    def _parse_setting_value(self) -> exp.Expr:
        """A SET value or WITH option value: a string, a signed number or a bare word."""
        token = self._curr
        if token.token_type in _STRING_TOKENS:
            self._advance()
            return exp.Literal.string(token.text)
        if token.token_type in _SIGNS and self._next.token_type == TokenType.NUMBER:
            self._advance(2)
            sign = "-" if token.token_type == TokenType.DASH else ""
            return exp.Literal.number(sign + self._prev.text)
        if token.token_type == TokenType.NUMBER:
            self._advance()
            return exp.Literal.number(token.text)
        word = self._parse_name_word()
        if word is None:
            self.raise_error("Expecting a value")
            return exp.null()  # unreachable: raise_error raises at ErrorLevel.IMMEDIATE
        return exp.Literal.string(word)

    def _parse_setting_values(self) -> list[exp.Expr]:
        """`DEFAULT` alone, or a comma-separated list of values."""
        if self._match(TokenType.DEFAULT):
            return [DefaultValue(this="DEFAULT")]
        return self._parse_csv(self._parse_setting_value)

    def _parse_with_options(self) -> list[exp.Property]:
        """[WITH (key [= value], ...)]: [] when there is no WITH."""
        if not self._match(TokenType.WITH):
            return []
        return self._parse_wrapped_csv(self._parse_with_option)

    def _parse_with_option(self) -> exp.Property:
        # The key is matched lower-case; `raw_key` keeps it as written, for the planner to map
        # Milvus' camel-case names (efConstruction). Set after validation: not a Property arg.
        raw_key = self._parse_dotted_name(fold=False)
        if raw_key is None:
            self.raise_error("Expecting an option name")
            raw_key = ""  # unreachable: raise_error raises at ErrorLevel.IMMEDIATE
        if self._match(TokenType.EQ):
            value = self._parse_setting_value()
        else:
            value = exp.Literal.string("true")  # a bare key means true, as in Postgres' reloptions
        option = self.expression(exp.Property(this=exp.var(raw_key.lower()), value=value))
        option.set("raw_key", raw_key)
        return option

    def _parse_on_collection(self) -> exp.Table | exp.Dot | None:
        """`ON name`: the collection a partition or index belongs to."""
        if not self._match(TokenType.ON):
            self.raise_error("Expecting ON")
        return self._parse_table_parts(schema=True)
