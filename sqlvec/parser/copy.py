"""COPY, as Postgres writes it, into sqlglot's own exp.Copy.

    COPY [BINARY] name [(column, ...)] FROM {STDIN | 'file' | PROGRAM 'command'}
        [[USING] DELIMITERS 'c'] [[WITH] (option [value], ...) | [WITH] legacy options]
        [WHERE condition]
    COPY [BINARY] name [(column, ...)] TO {STDOUT | 'file' | PROGRAM 'command'} [...]
    COPY (query) TO STDOUT [...]

sqlglot's generic COPY parser misses Postgres' option list without WITH (asyncpg sends
`COPY "t"("a") FROM STDIN (FORMAT binary)`) and reads the pre-9.0 options (`WITH CSV HEADER`)
as one option with a value. Here every spelling becomes one shape, so the planner reads one:

    this: exp.Table, exp.Schema(this=exp.Table, expressions=[exp.Identifier, ...]) with a
        column list, or exp.Subquery for `COPY (query) TO`
    kind: True for FROM, False for TO (sqlglot's convention)
    files: [exp.Var('STDIN' | 'STDOUT')] for the client, [exp.Literal] for a server file or,
        with arg `program` True, a program
    params: [exp.CopyParameter(this=exp.Var(upper-case option name), expression=value)], value
        None (a bare option), exp.Literal (strings, numbers), exp.Var (a word, lower-cased as
        Postgres folds it), exp.Star or exp.Tuple of exp.Identifier (column lists). Legacy
        options arrive under their modern names: BINARY / CSV as FORMAT, FORCE QUOTE as
        FORCE_QUOTE, [USING] DELIMITERS as DELIMITER, ...
    where: exp.Where or None (COPY FROM ... WHERE)
"""

from __future__ import annotations

import typing as t

from sqlglot import exp
from sqlglot.tokens import TokenType

from sqlvec.parser.ddl import DdlParser

_STRING_TOKENS = frozenset({TokenType.STRING, TokenType.HEREDOC_STRING, TokenType.BYTE_STRING})
_SIGNS = frozenset({TokenType.PLUS, TokenType.DASH})

# Pre-9.0 options that take a string after an optional AS.
_LEGACY_STRING_OPTIONS = frozenset({"DELIMITER", "NULL", "QUOTE", "ESCAPE", "ENCODING"})
_LEGACY_FLAGS = {"BINARY": ("FORMAT", "binary"), "CSV": ("FORMAT", "csv")}
_LEGACY_BARE = frozenset({"HEADER", "FREEZE"})
_LEGACY_WORDS = _LEGACY_STRING_OPTIONS | _LEGACY_FLAGS.keys() | _LEGACY_BARE | {"FORCE"}


class CopyParser(DdlParser):
    def _parse_copy(self) -> exp.Copy:  # type: ignore[override]
        binary = self._match_text_seq("BINARY")
        if self._match(TokenType.L_PAREN, advance=False):
            this: exp.Expr | None = self._parse_copy_query()
        else:
            this = self._parse_copy_table()
        if self._match(TokenType.FROM):
            from_client = True
        elif self._match_text_seq("TO"):
            from_client = False
        else:
            self.raise_error("Expecting FROM or TO")
            from_client = False  # unreachable: raise_error raises at ErrorLevel.IMMEDIATE
        if isinstance(this, exp.Subquery) and from_client:
            self.raise_error("Expecting TO", self._prev)
        program = bool(self._match_text_seq("PROGRAM"))
        target = self._parse_copy_target(from_client, program)
        params: list[exp.CopyParameter] = []
        if binary:
            params.append(_parameter("FORMAT", exp.var("binary")))
        if self._match_text_seq("USING", "DELIMITERS") or self._match_text_seq("DELIMITERS"):
            params.append(_parameter("DELIMITER", self._parse_copy_string()))
        with_keyword = self._match(TokenType.WITH)
        if self._match(TokenType.L_PAREN):
            params.extend(self._parse_copy_generic_options())
        else:
            params.extend(self._parse_copy_legacy_options(required=bool(with_keyword)))
        where = self._parse_where() if from_client else None
        copy = self.expression(
            exp.Copy(this=this, kind=from_client, files=[target], params=params or None)
        )
        if program:
            copy.set("program", True)
        if where is not None:
            copy.set("where", where)
        return copy

    def _parse_copy_query(self) -> exp.Subquery:
        query = self._parse_select(nested=True, parse_subquery_alias=False)
        if not isinstance(query, exp.Subquery):
            self.raise_error("Expecting a query in parentheses")
        return t.cast(exp.Subquery, query)

    def _parse_copy_table(self) -> exp.Expr:
        table = self._parse_table_parts(schema=True)
        if table is None:
            self.raise_error("Expecting a table name")
        assert table is not None  # raise_error raises at ErrorLevel.IMMEDIATE
        if not self._match(TokenType.L_PAREN):
            return table
        columns = self._parse_csv(self._parse_id_var)
        if not self._match(TokenType.R_PAREN):
            self.raise_error("Expecting )")
        return self.expression(exp.Schema(this=table, expressions=columns))

    def _parse_copy_target(self, from_client: bool, program: bool) -> exp.Expr:
        if not program and self._match_texts(("STDIN", "STDOUT")):
            # Postgres takes either word in either direction: both mean the client.
            return exp.var("STDIN" if from_client else "STDOUT")
        if self._curr and self._curr.token_type == TokenType.STRING:
            self._advance()
            return exp.Literal.string(self._prev.text)
        self.raise_error("Expecting STDIN, STDOUT or a file name")
        return exp.null()  # unreachable: raise_error raises at ErrorLevel.IMMEDIATE

    def _parse_copy_generic_options(self) -> list[exp.CopyParameter]:
        """After `(`: `name [value], ...)` with Postgres' generic option values."""
        options = []
        while True:
            name = self._peek_word()
            if not name:
                self.raise_error("Expecting a COPY option")
            self._advance()
            options.append(_parameter(name, self._parse_copy_option_value()))
            if self._match(TokenType.R_PAREN):
                return options
            if not self._match(TokenType.COMMA):
                self.raise_error("Expecting , or )")

    def _parse_copy_option_value(self) -> exp.Expr | None:
        token = self._curr
        if not token or token.token_type in (TokenType.COMMA, TokenType.R_PAREN):
            return None
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
        if self._match(TokenType.STAR):
            return exp.Star()
        if self._match(TokenType.L_PAREN, advance=False):
            return exp.Tuple(expressions=self._parse_wrapped_csv(self._parse_id_var))
        word = self._parse_name_word()
        if word is None:
            self.raise_error("Expecting an option value")
        return exp.var(word)

    def _parse_copy_legacy_options(self, required: bool) -> list[exp.CopyParameter]:
        """Pre-9.0 options: `BINARY`, `CSV HEADER`, `DELIMITER AS '|'`, `FORCE QUOTE *`, ..."""
        options = []
        while self._peek_word() in _LEGACY_WORDS:
            word = self._peek_word()
            self._advance()
            if word in _LEGACY_FLAGS:
                name, value = _LEGACY_FLAGS[word]
                options.append(_parameter(name, exp.var(value)))
            elif word in _LEGACY_BARE:
                options.append(_parameter(word, None))
            elif word in _LEGACY_STRING_OPTIONS:
                self._match(TokenType.ALIAS)
                options.append(_parameter(word, self._parse_copy_string()))
            else:
                options.append(self._parse_copy_force())
        if required and not options:
            self.raise_error("Expecting COPY options")
        return options

    def _parse_copy_force(self) -> exp.CopyParameter:
        if self._match_text_seq("QUOTE"):
            name = "FORCE_QUOTE"
        elif self._match_text_seq("NOT", "NULL"):
            name = "FORCE_NOT_NULL"
        elif self._match(TokenType.NULL):
            name = "FORCE_NULL"
        else:
            self.raise_error("Expecting QUOTE, NOT NULL or NULL")
        if name == "FORCE_QUOTE" and self._match(TokenType.STAR):
            return _parameter(name, exp.Star())
        return _parameter(name, exp.Tuple(expressions=self._parse_csv(self._parse_id_var)))

    def _parse_copy_string(self) -> exp.Literal:
        token = self._curr
        if not token or token.token_type not in _STRING_TOKENS:
            self.raise_error("Expecting a string")
        self._advance()
        return exp.Literal.string(token.text)


def _parameter(name: str, value: exp.Expr | None) -> exp.CopyParameter:
    return exp.CopyParameter(this=exp.var(name.upper()), expression=value)
