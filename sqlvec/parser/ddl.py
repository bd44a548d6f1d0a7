"""DDL: CREATE / DROP of collections, partitions and indexes, dispatched on the word after
CREATE or DROP (CREATE_PARSERS, DROP_PARSERS), and CREATE / DROP TABLE in pgvector style.

A statement sqlvec does not model (CREATE TABLE ... AS SELECT / PARTITION BY / INHERITS, TEMP
tables, multi-column indexes, DROP VIEW, ...) is left to sqlglot's own CREATE / DROP parser;
the planner rejects what it gets.
"""

from __future__ import annotations

import typing as t

from sqlglot import exp
from sqlglot.tokens import TokenType

from sqlvec.parser.admin import AdminParser
from sqlvec.parser.nodes import CreateCollection, DropCollection

# Reads the rest of a statement after its CREATE / DROP <word>; None hands it back to sqlglot.
DdlStatementParser = t.Callable[["DdlParser"], exp.Expr | None]


class DdlParser(AdminParser):
    CREATE_PARSERS: t.ClassVar[dict[str, DdlStatementParser]] = {
        "COLLECTION": lambda self: self._parse_create_collection("COLLECTION"),
        "TABLE": lambda self: self._parse_create_table(),
        "PARTITION": lambda self: self._parse_create_partition_statement(),
        "INDEX": lambda self: self._parse_create_index(),
    }

    DROP_PARSERS: t.ClassVar[dict[str, DdlStatementParser]] = {
        "COLLECTION": lambda self: self._parse_drop_collection("COLLECTION"),
        "TABLE": lambda self: self._parse_drop_collection("TABLE"),
        "PARTITION": lambda self: self._parse_drop_partition_statement(),
        "INDEX": lambda self: self._parse_drop_index(),
    }

    def _parse_create_statement(self) -> exp.Expr:
        return self._parse_ddl(self.CREATE_PARSERS) or self._parse_create()

    def _parse_drop_statement(self) -> exp.Expr:
        return self._parse_ddl(self.DROP_PARSERS) or self._parse_drop()

    def _parse_ddl(self, parsers: dict[str, DdlStatementParser]) -> exp.Expr | None:
        index = self._index
        parser = parsers.get(self._peek_word())
        if parser is None:
            return None
        self._advance()
        statement = parser(self)
        if statement is None:
            self._retreat(index)  # back to just after CREATE / DROP, where sqlglot starts
        return statement

    def _parse_create_table(self) -> CreateCollection | None:
        # Only `name (columns) [WITH (...)]` is a collection; AS SELECT, PARTITION BY, ... are not.
        if not self._at_column_list():
            return None
        create = self._parse_create_collection("TABLE")
        return None if self._curr else create

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
        options = self._parse_with_options()
        return self.expression(
            CreateCollection(this=schema, exists=exists, kind=kind, options=options or None)
        )

    def _parse_collection_schema(self, table: exp.Expr | None) -> exp.Schema:
        """`(column defs and table constraints)`, read as sqlglot reads a CREATE TABLE's."""
        items = self._parse_wrapped_csv(lambda: self._parse_constraint() or self._parse_field_def())
        return self.expression(exp.Schema(this=table, expressions=items))

    def _parse_drop_collection(self, kind: str) -> DropCollection:
        exists = self._parse_exists()
        tables = self._parse_csv(lambda: self._parse_table_parts(schema=True))
        behaviour = self._match_texts(("CASCADE", "RESTRICT")) and self._prev.text.upper()
        return self.expression(
            DropCollection(
                expressions=tables, exists=exists, kind=kind, cascade=behaviour == "CASCADE"
            )
        )
