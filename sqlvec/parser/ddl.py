"""Collection DDL: CREATE / DROP COLLECTION, and CREATE / DROP TABLE in pgvector style.

A CREATE TABLE that is not a plain `name (columns) [WITH (...)]` (AS SELECT, PARTITION BY,
INHERITS, TEMP, ...) is left to sqlglot's own CREATE parser; the planner rejects what it gets.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.tokens import TokenType

from sqlvec.parser.nodes import CreateCollection, DropCollection
from sqlvec.parser.settings import SettingsParser


class DdlParser(SettingsParser):
    def _parse_create_statement(self) -> exp.Expr:
        index = self._index
        if self._match_text_seq("COLLECTION"):
            return self._parse_create_collection("COLLECTION")
        if self._match(TokenType.TABLE) and self._at_column_list():
            create = self._parse_create_collection("TABLE")
            if not self._curr:
                return create
        # Any other CREATE TABLE form (AS SELECT, PARTITION BY, ...) is sqlglot's to read.
        self._retreat(index)
        return self._parse_create()

    def _at_column_list(self) -> bool:
        """Lookahead: does `[IF NOT EXISTS] name (` follow (or nothing, which is an error)?"""
        index = self._index
        self._parse_exists(not_=True)
        self._parse_table_parts(schema=True)
        found = not self._curr or self._curr.token_type == TokenType.L_PAREN
        self._retreat(index)
        return found

    def _parse_create_collection(self, kind: str) -> CreateCollection:
        exists = self._parse_exists(not_=True)
        schema = self._parse_collection_schema(self._parse_table_parts(schema=True))
        options = self._parse_collection_options()
        return self.expression(
            CreateCollection(this=schema, exists=exists, kind=kind, options=options or None)
        )

    def _parse_collection_schema(self, table: exp.Expr | None) -> exp.Schema:
        """`(column defs and table constraints)`, read as sqlglot reads a CREATE TABLE's."""
        items = self._parse_wrapped_csv(lambda: self._parse_constraint() or self._parse_field_def())
        return self.expression(exp.Schema(this=table, expressions=items))

    def _parse_collection_options(self) -> list[exp.Property]:
        if not self._match(TokenType.WITH):
            return []
        return self._parse_wrapped_csv(self._parse_collection_option)

    def _parse_collection_option(self) -> exp.Property:
        key = self._parse_dotted_name()
        if key is None:
            self.raise_error("Expecting an option name")
        if self._match(TokenType.EQ):
            value = self._parse_setting_value()
        else:
            value = exp.Literal.string("true")  # a bare key means true, as in Postgres' reloptions
        return self.expression(exp.Property(this=exp.var(key), value=value))

    def _parse_drop_statement(self) -> exp.Expr:
        if self._match_text_seq("COLLECTION"):
            kind = "COLLECTION"
        elif self._match(TokenType.TABLE):
            kind = "TABLE"
        else:
            return self._parse_drop()
        exists = self._parse_exists()
        tables = self._parse_csv(lambda: self._parse_table_parts(schema=True))
        behaviour = self._match_texts(("CASCADE", "RESTRICT")) and self._prev.text.upper()
        return self.expression(
            DropCollection(
                expressions=tables, exists=exists, kind=kind, cascade=behaviour == "CASCADE"
            )
        )
