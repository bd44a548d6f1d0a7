"""The sqlvec parser: Postgres' parser with pgvector operators and sqlvec's statements.

Extension follows sqlglot's own style: class tables (BITWISE, STATEMENT_PARSERS, ...) are
extended, and statements that start with a word sqlglot has no token type for (START, ABORT,
SAVEPOINT, RESET, FLUSH, COMPACT, ...) go through WORD_STATEMENT_PARSERS, the same kind of table
keyed by text. The statement mixins stack up as base -> transactions -> partitions -> settings
-> indexes -> admin -> ddl -> copy -> this module, each free to call the ones below it.
"""

from __future__ import annotations

import logging
import typing as t

from sqlglot import exp
from sqlglot.errors import ErrorLevel
from sqlglot.parsers.postgres import PostgresParser
from sqlglot.tokens import Token, TokenType

from sqlvec.parser.copy import CopyParser
from sqlvec.parser.diagnostics import PositionedParseError
from sqlvec.parser.nodes import DISTANCE_OPERATORS
from sqlvec.parser.tokens import VECTOR_OPERATOR_TOKENS

logger = logging.getLogger(__name__)

StatementParser = t.Callable[["SqlvecParser"], exp.Expr]
T = t.TypeVar("T")


def _as_command(self: SqlvecParser) -> exp.Command:
    return self._parse_as_command(self._prev)


# What a statement that does not start with a statement keyword may parse to: queries
# (SELECT, VALUES, TABLE x, (SELECT ...)) and WITH ... INSERT / UPDATE / DELETE.
_EXPRESSION_STATEMENTS = (exp.Query, exp.Values, exp.DML)

# Postgres statements that are complete as a single word.
_BARE_COMMANDS = frozenset({"CHECKPOINT", "VACUUM"})


class SqlvecParser(CopyParser):
    # pgvector's operators sit in Postgres' "any other operator" class: tighter than
    # comparisons and IS / IN / LIKE / BETWEEN, looser than + - * / %, left-associative.
    # That is exactly sqlglot's BITWISE level (where Postgres' & | # || << >> already are).
    BITWISE = {
        **PostgresParser.BITWISE,
        **{
            t.cast(TokenType, VECTOR_OPERATOR_TOKENS[node.operator]): node
            for node in DISTANCE_OPERATORS
        },
    }
    # The tokenizer never emits these any more; dropped so no table still claims them.
    FACTOR = {k: v for k, v in PostgresParser.FACTOR.items() if k != TokenType.LR_ARROW}
    EQUALITY = {k: v for k, v in PostgresParser.EQUALITY.items() if k != TokenType.NULLSAFE_EQ}

    STATEMENT_PARSERS = {
        **PostgresParser.STATEMENT_PARSERS,
        TokenType.BEGIN: lambda self: self._parse_begin(),
        TokenType.COMMIT: lambda self: self._parse_commit_statement(),
        TokenType.END: lambda self: self._parse_commit_statement(),
        TokenType.ROLLBACK: lambda self: self._parse_rollback_statement(),
        TokenType.CREATE: lambda self: self._parse_create_statement(),
        TokenType.DROP: lambda self: self._parse_drop_statement(),
        TokenType.SHOW: lambda self: self._parse_show_statement(),
        TokenType.SET: lambda self: self._parse_set_statement(),
        TokenType.ANALYZE: lambda self: self._parse_analyze_statement(),
    }

    WORD_STATEMENT_PARSERS: t.ClassVar[dict[str, StatementParser]] = {
        "START": lambda self: self._parse_start_transaction(),
        "ABORT": lambda self: self._parse_rollback_statement(),
        "SAVEPOINT": lambda self: self._parse_savepoint_statement(),
        "RELEASE": lambda self: self._parse_release_statement(),
        "RESET": lambda self: self._parse_reset_statement(),
        # sqlvec's own administration statements (admin.py).
        "FLUSH": lambda self: self._parse_flush_statement(),
        "COMPACT": lambda self: self._parse_compact_statement(),
        "EXPLAIN": lambda self: self._parse_explain_statement(),
        # Postgres statements sqlvec does not model: exp.Command, which the planner answers
        # with 0A000 instead of a misleading syntax error (asyncpg's pool reset sends some).
        **dict.fromkeys(
            ("CLOSE", "DEALLOCATE", "DISCARD", "LISTEN", "UNLISTEN", "NOTIFY", "MOVE"),
            _as_command,
        ),
        **dict.fromkeys(("CHECKPOINT", "CLUSTER", "SECURITY", "REASSIGN"), _as_command),
    }

    def _parse_statement(self) -> exp.Expr | None:
        first = self._curr
        if not first:
            return None
        word_parser = self.WORD_STATEMENT_PARSERS.get(self._peek_word())
        statement: exp.Expr | None
        if word_parser is not None:
            self._advance()
            statement = word_parser(self)
        else:
            statement = super()._parse_statement()
            if not self._starts_statement(first) and not isinstance(
                statement, _EXPRESSION_STATEMENTS
            ):
                # sqlglot accepts any bare expression as a statement (`FLUSH docs` would be
                # a column with an alias); Postgres rejects it at its first token.
                self.raise_error("Invalid statement", first)
        if self._is_incomplete(first, statement):
            # sqlglot keeps a lone `CREATE` or `DROP` as a Command; Postgres wants more.
            self.raise_error("Incomplete statement")
        return statement

    def _is_incomplete(self, first: Token, statement: exp.Expr | None) -> bool:
        return (
            isinstance(statement, exp.Command)
            and not statement.text("expression").strip()
            and first.text.upper() not in _BARE_COMMANDS
        )

    def _starts_statement(self, token: Token) -> bool:
        return (
            token.token_type in self.STATEMENT_PARSERS
            or token.token_type in self.dialect.tokenizer_class.COMMANDS
        )

    def _parse_alias(self, this: exp.Expr | None, explicit: bool = False) -> exp.Expr | None:
        # Postgres never gives a bare `*` an alias: `SELECT * FORM docs` fails at FORM, not
        # at docs (sqlglot would read FORM as the star's alias).
        if isinstance(this, exp.Star):
            return this
        return super()._parse_alias(this, explicit)

    def _parse_csv(
        self, parse_method: t.Callable[[], T | None], sep: TokenType = TokenType.COMMA
    ) -> list[T]:
        # sqlglot skips empty items, so `SELECT 1,, 2` and `VALUES (1,,2)` would pass (the
        # latter silently shifting columns); Postgres rejects a separator with nothing after.
        items: list[T] = []
        while True:
            item = parse_method()
            if item is not None:
                items.append(item)
            elif items or self._curr.token_type == sep:
                self.raise_error("Expecting an expression")  # at what follows/precedes a `,`
            if not self._match(sep):
                return items
            if isinstance(item, exp.Expr):
                self._add_comments(item)

    def _parse_types(
        self,
        check_func: bool = False,
        schema: bool = False,
        allow_identifiers: bool = True,
        with_collation: bool = False,
    ) -> exp.Expr | None:
        this = super()._parse_types(check_func, schema, allow_identifiers, with_collation)
        # sqlglot returns oid / regclass / regtype before looking for `[]`, so `$1::oid[]`
        # (in asyncpg's type introspection query) failed to parse.
        if isinstance(this, exp.ObjectIdentifier):
            while self._match_pair(TokenType.L_BRACKET, TokenType.R_BRACKET):
                this = exp.DataType(this=exp.DType.ARRAY, expressions=[this], nested=True)
        return this

    def raise_error(self, message: str, token: Token | None = None) -> None:  # type: ignore[override]
        # Keep the token (sqlglot keeps only line/column) and skip sqlglot's excerpt
        # highlighting, which _try_parse would otherwise pay for on every failed attempt.
        if token:
            error = PositionedParseError(message, token, None)
        elif self._curr:
            error = PositionedParseError(message, self._curr, None)
        else:
            error = PositionedParseError(message, None, self._prev or None)
        if self.error_level == ErrorLevel.IMMEDIATE:
            raise error
        self.errors.append(error)

    def _warn_unsupported(self) -> None:
        # sqlglot logs a warning for every statement it keeps as a Command; for sqlvec that is
        # an ordinary outcome (the planner answers 0A000), so log it quietly.
        if logger.isEnabledFor(logging.DEBUG) and self._tokens:
            logger.debug("kept as Command: %s", self._find_sql(self._tokens[0], self._tokens[-1]))
