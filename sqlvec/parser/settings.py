"""SHOW / SET / RESET, parsed the way Postgres' grammar reads them.

Names come out lower-case and dotted names stay whole (`hnsw.ef_search`). Postgres' multiword
forms are mapped to the setting names Postgres itself maps them to, so the session keys every
setting by one name.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.tokens import TokenType

from sqlvec.parser.nodes import (
    DefaultValue,
    ResetVariable,
    SetVariable,
    Show,
    ShowCollections,
    ShowPartitions,
)
from sqlvec.parser.partitions import PartitionParser

# Multiword names SHOW and RESET accept (Postgres gram.y, `var_name` alternatives).
MULTIWORD_SETTINGS: dict[tuple[str, ...], str] = {
    ("TIME", "ZONE"): "timezone",
    ("TRANSACTION", "ISOLATION", "LEVEL"): "transaction_isolation",
    ("SESSION", "AUTHORIZATION"): "session_authorization",
}

# SET forms that take their value without TO / =: `SET TIME ZONE 'UTC'`, `SET ROLE admin`.
SET_VALUE_FORMS: dict[tuple[str, ...], str] = {
    ("TIME", "ZONE"): "timezone",
    ("SESSION", "AUTHORIZATION"): "session_authorization",
    ("ROLE",): "role",
    ("NAMES",): "client_encoding",
    ("SCHEMA",): "search_path",
}

SHOW_COLLECTIONS_WORDS = frozenset({"COLLECTIONS", "TABLES"})

# SET forms Postgres has that sqlvec does not model: kept as exp.Command (planner: 0A000).
UNMODELED_SET_WORDS = frozenset({"CONSTRAINTS", "XML"})


class SettingsParser(PartitionParser):
    def _parse_setting_name(self) -> str | None:
        for words, name in MULTIWORD_SETTINGS.items():
            if self._match_text_seq(*words):
                return name
        return self._parse_dotted_name()

    def _parse_show_statement(self) -> Show | ShowCollections | ShowPartitions | exp.Command:
        start = self._prev
        word = self._peek_word()
        if word in SHOW_COLLECTIONS_WORDS and not self._next:
            self._advance()
            return self.expression(ShowCollections(kind=word))
        if word == "PARTITIONS" and self._next.token_type in (TokenType.FROM, TokenType.IN):
            self._advance(2)
            return self._parse_show_partitions()
        if not self._curr:
            self.raise_error("Expecting a setting name")
        name = self._parse_setting_name()
        if name is None or self._curr:
            # Not a setting (e.g. SHOW INDEXES FROM docs): the planner answers 0A000.
            return self._parse_as_command(start)
        return self.expression(Show(this=name))

    def _parse_reset_statement(self) -> ResetVariable:
        if self._match(TokenType.ALL):
            return self.expression(ResetVariable(this="all"))
        name = self._parse_setting_name()
        if name is None:
            self.raise_error("Expecting a setting name")
        return self.expression(ResetVariable(this=name))

    def _parse_set_statement(self) -> SetVariable | exp.Command:
        start = self._prev
        if self._match_text_seq("SESSION", "CHARACTERISTICS", "AS", "TRANSACTION"):
            modes = self._transaction_mode_vars()
            return self.expression(
                SetVariable(this="transaction", kind="characteristics", expressions=modes)
            )
        local = self._parse_set_scope()
        if self._match_text_seq("TRANSACTION"):
            modes = self._transaction_mode_vars()
            return self.expression(
                SetVariable(this="transaction", kind="transaction", expressions=modes, local=local)
            )
        if self._peek_word() in UNMODELED_SET_WORDS:
            return self._parse_as_command(start)
        return self._parse_value_form(local) or self._parse_assignment_form(local)

    def _parse_set_scope(self) -> bool:
        """[SESSION | LOCAL] -> True for LOCAL. SESSION AUTHORIZATION is a form, not a scope."""
        if self._match_text_seq("LOCAL"):
            return True
        if not self._match_text_seq("SESSION", "AUTHORIZATION", advance=False):
            self._match(TokenType.SESSION)
        return False

    def _at_assignment(self) -> bool:
        return self._curr.token_type == TokenType.EQ or self._peek_word() == "TO"

    def _parse_value_form(self, local: bool) -> SetVariable | None:
        for words, name in SET_VALUE_FORMS.items():
            index = self._index
            if not self._match_text_seq(*words):
                continue
            if self._at_assignment():
                # `SET role TO x` is the generic form with a setting called role.
                self._retreat(index)
                return None
            value = self._parse_form_value(name)
            return self.expression(SetVariable(this=name, expressions=[value], local=local))
        return None

    def _parse_form_value(self, name: str) -> exp.Expr:
        if self._match(TokenType.DEFAULT):
            return DefaultValue(this="DEFAULT")
        if name == "timezone" and self._match_text_seq("LOCAL"):
            return DefaultValue(this="DEFAULT")  # Postgres: TIME ZONE LOCAL = DEFAULT
        return self._parse_setting_value()

    def _parse_assignment_form(self, local: bool) -> SetVariable:
        name = self._parse_dotted_name()
        if name is None:
            self.raise_error("Expecting a setting name")
        if not (self._match(TokenType.EQ) or self._match_text_seq("TO")):
            self.raise_error("Expecting TO or =")
        values = self._parse_setting_values()
        return self.expression(SetVariable(this=name, expressions=values, local=local))

    def _transaction_mode_vars(self) -> list[exp.Expr]:
        modes = self._parse_transaction_modes()
        if not modes:
            self.raise_error("Expecting a transaction mode")
        return [exp.var(mode) for mode in modes]
