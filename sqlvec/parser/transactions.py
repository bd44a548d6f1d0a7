"""Transaction statements: BEGIN / START TRANSACTION / COMMIT / END / ROLLBACK / ABORT and
savepoints, as Postgres writes them.

BEGIN, COMMIT and ROLLBACK become sqlglot's own exp.Transaction / exp.Commit / exp.Rollback;
savepoint statements become nodes.Savepoint. Transaction modes are kept as upper-case strings
('ISOLATION LEVEL SERIALIZABLE', 'READ ONLY', 'NOT DEFERRABLE'), as sqlglot stores them.
"""

from __future__ import annotations

import typing as t

from sqlglot import exp
from sqlglot.tokens import TokenType

from sqlvec.parser.base import SqlvecParserBase
from sqlvec.parser.nodes import Savepoint

# First word -> the words that may follow it (sqlglot's OPTIONS_TYPE shape). Postgres' own
# list; sqlglot's TRANSACTION_CHARACTERISTICS lacks DEFERRABLE and misspells UNCOMMITTED.
TRANSACTION_MODES: dict[str, t.Sequence[t.Sequence[str] | str]] = {
    "ISOLATION": (
        ("LEVEL", "SERIALIZABLE"),
        ("LEVEL", "REPEATABLE", "READ"),
        ("LEVEL", "READ", "COMMITTED"),
        ("LEVEL", "READ", "UNCOMMITTED"),
    ),
    "READ": ("ONLY", "WRITE"),
    "DEFERRABLE": (),
    "NOT": ("DEFERRABLE",),
}


class TransactionParser(SqlvecParserBase):
    def _parse_transaction_modes(self) -> list[str]:
        """Modes separated by commas or just spaces (Postgres accepts both)."""
        modes: list[str] = []
        after_comma = False
        while self._peek_word() in TRANSACTION_MODES:
            mode = self._parse_var_from_options(TRANSACTION_MODES)
            modes.append(mode.name if mode else "")
            after_comma = self._match(TokenType.COMMA)
        if after_comma:
            self.raise_error("Expecting a transaction mode")
        return modes

    def _parse_begin(self) -> exp.Transaction:
        self._match_texts(("WORK", "TRANSACTION"))
        modes = self._parse_transaction_modes()
        return self.expression(exp.Transaction(modes=modes or None))

    def _parse_start_transaction(self) -> exp.Transaction:
        if not self._match_text_seq("TRANSACTION"):
            self.raise_error("Expecting TRANSACTION")
        modes = self._parse_transaction_modes()
        # this='START' keeps the command tag apart: Postgres answers START TRANSACTION, not BEGIN.
        return self.expression(exp.Transaction(this="START", modes=modes or None))

    def _parse_chain(self) -> bool | None:
        """[AND [NO] CHAIN] -> True / False / None (absent)."""
        if not self._match(TokenType.AND):
            return None
        no_chain = self._match_text_seq("NO")
        if not self._match_text_seq("CHAIN"):
            self.raise_error("Expecting CHAIN")
        return not no_chain

    def _parse_commit_statement(self) -> exp.Commit | exp.Command:
        start = self._prev
        if self._match_text_seq("PREPARED"):
            return self._parse_as_command(start)
        self._match_texts(("WORK", "TRANSACTION"))
        return self.expression(exp.Commit(chain=self._parse_chain()))

    def _parse_rollback_statement(self) -> exp.Rollback | Savepoint | exp.Command:
        start = self._prev
        is_abort = start.text.upper() == "ABORT"
        if not is_abort and self._match_text_seq("PREPARED"):
            return self._parse_as_command(start)
        self._match_texts(("WORK", "TRANSACTION"))
        if not is_abort and self._match_text_seq("TO"):
            self._match_text_seq("SAVEPOINT")
            return self._savepoint("rollback_to")
        if self._parse_chain():
            # ROLLBACK AND CHAIN: exp.Rollback cannot say it; the planner answers 0A000.
            return self._parse_as_command(start)
        return self.expression(exp.Rollback())

    def _parse_savepoint_statement(self) -> Savepoint:
        return self._savepoint("savepoint")

    def _parse_release_statement(self) -> Savepoint:
        self._match_text_seq("SAVEPOINT")
        return self._savepoint("release")

    def _savepoint(self, action: str) -> Savepoint:
        name = self._parse_name_word()
        if name is None:
            self.raise_error("Expecting a savepoint name")
        return self.expression(Savepoint(this=name, action=action))
