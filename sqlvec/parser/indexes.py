"""Vector indexes: CREATE INDEX / DROP INDEX, with Milvus, pgvector and Faiss spellings alike.

    CREATE INDEX ON docs USING ivf_flat (embedding) WITH (nlist = 1024)
    CREATE INDEX ON docs USING hnsw (embedding vector_cosine_ops) WITH (m = 16)
    CREATE INDEX ON docs USING faiss (embedding) WITH (factory = 'OPQ16,IVF4096,PQ16')

Method names and option keys are any words: the planner knows which exist. Postgres' index
forms that the node cannot hold (several columns, expressions, ASC / COLLATE on the column,
INCLUDE, a partial index's WHERE, ...) are left to sqlglot's own CREATE INDEX parser, so the
planner answers them with 0A000 rather than the client seeing a misleading syntax error.
"""

from __future__ import annotations

from sqlglot.tokens import TokenType

from sqlvec.parser.nodes import CreateVectorIndex, DropVectorIndex
from sqlvec.parser.settings import SettingsParser

# Postgres CREATE INDEX clauses after the column list that the node does not model.
UNMODELED_INDEX_CLAUSES = frozenset({"INCLUDE", "NULLS", "TABLESPACE", "WHERE"})

# Words after the column that are not an operator class: ordering and collation options.
COLUMN_OPTION_WORDS = frozenset({"ASC", "DESC", "NULLS", "COLLATE"})


class IndexParser(SettingsParser):
    def _parse_create_index(self) -> CreateVectorIndex | None:
        """After CREATE INDEX: the single-column form, or None for sqlglot to read instead.

        Syntax errors in the parts the node models are raised here, at the failing token.
        """
        concurrently = self._match_text_seq("CONCURRENTLY")
        exists = self._parse_exists(not_=True)
        name = None if self._curr.token_type == TokenType.ON else self._parse_name_word()
        collection = self._parse_on_collection()
        method = self._parse_index_method()
        column = self._parse_index_column()
        if column is None or self._peek_word() in UNMODELED_INDEX_CLAUSES:
            return None
        options = self._parse_with_options()
        if self._peek_word() in UNMODELED_INDEX_CLAUSES:
            return None
        return self.expression(
            CreateVectorIndex(
                this=name,
                collection=collection,
                method=method,
                column=column[0],
                opclass=column[1],
                options=options or None,
                exists=exists,
                concurrently=concurrently,
            )
        )

    def _parse_index_method(self) -> str | None:
        if not self._match(TokenType.USING):
            return None
        method = self._parse_name_word()
        if method is None:
            self.raise_error("Expecting an index method")
            return None  # unreachable: raise_error raises at ErrorLevel.IMMEDIATE
        return method.lower()

    def _parse_index_column(self) -> tuple[str, str | None] | None:
        """`(column [opclass])` -> (column, lower-case opclass or None); None for other forms."""
        if not self._match(TokenType.L_PAREN):
            self.raise_error("Expecting (")
        if self._curr.token_type == TokenType.R_PAREN:
            self.raise_error("Expecting a column")  # Postgres: an index needs a column
        column = self._parse_name_word()
        opclass = None
        if column is not None and self._peek_word() not in COLUMN_OPTION_WORDS:
            opclass = self._parse_name_word()
        if not self._curr:
            self.raise_error("Expecting )")  # at end of input, whatever came before
        if column is None or not self._match(TokenType.R_PAREN):
            return None
        return column, opclass.lower() if opclass else None

    def _parse_drop_index(self) -> DropVectorIndex | None:
        """After DROP INDEX: one unqualified name and/or ON collection, or None for sqlglot."""
        concurrently = self._match_text_seq("CONCURRENTLY")
        exists = self._parse_exists()
        name = None
        if self._curr.token_type != TokenType.ON:
            name = self._parse_name_word()
            if name is None:
                self.raise_error("Expecting an index name")
            if self._curr.token_type in (TokenType.DOT, TokenType.COMMA):
                return None  # schema.name or a list of names: sqlglot's exp.Drop
        collection = None
        if name is None or self._curr.token_type == TokenType.ON:
            collection = self._parse_on_collection()
        behaviour = self._match_texts(("CASCADE", "RESTRICT")) and self._prev.text.upper()
        return self.expression(
            DropVectorIndex(
                this=name,
                collection=collection,
                exists=exists,
                concurrently=concurrently,
                cascade=behaviour == "CASCADE",
            )
        )
