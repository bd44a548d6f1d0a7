"""Milvus partition tags: CREATE / DROP PARTITION, SHOW PARTITIONS, and the PARTITION clauses
that name partitions in queries (`FROM docs PARTITION (t1, t2)`) and inserts
(`INSERT INTO docs PARTITION (t1) ...`).

A tag is an identifier (folded to lower case unless quoted, as Postgres folds identifiers) or
a string literal (kept exactly). Where the tags end up is described in nodes.py.
"""

from __future__ import annotations

import typing as t

from sqlglot import exp
from sqlglot.tokens import TokenType

from sqlvec.parser.nodes import CreatePartition, DropPartition, ShowPartitions
from sqlvec.parser.transactions import TransactionParser


class PartitionParser(TransactionParser):
    # sqlglot's partition-selection hook (MySQL's `FROM t PARTITION (p0)`) calls
    # _parse_partition right after a table's name, before its alias, for every table reference.
    SUPPORTS_PARTITION_SELECTION = True
    # ... so a bare `partition` after a table is never its alias: `FROM docs PARTITION t1`
    # fails at PARTITION, and `FROM docs PARTITION (a) PARTITION (b)` at the second one, not
    # as an alias `partition(b)`. `AS partition` still works.
    TABLE_ALIAS_TOKENS = TransactionParser.TABLE_ALIAS_TOKENS - {TokenType.PARTITION}

    def _parse_partition_tag(self) -> str:
        token = self._curr
        if token.token_type == TokenType.STRING:
            self._advance()
            return token.text
        # ON never starts a tag: `CREATE PARTITION ON docs` fails at ON, as in Postgres.
        tag = None if token.token_type == TokenType.ON else self._parse_name_word()
        if tag is None:
            self.raise_error("Expecting a partition tag")
            return ""  # unreachable: raise_error raises at ErrorLevel.IMMEDIATE
        return tag

    def _at_partition_clause(self) -> bool:
        return self._peek_word() == "PARTITION" and self._next.token_type == TokenType.L_PAREN

    # --- statements ------------------------------------------------------------------------

    def _parse_create_partition_statement(self) -> CreatePartition:
        exists = self._parse_exists(not_=True)
        tag = self._parse_partition_tag()
        collection = self._parse_on_collection()
        return self.expression(CreatePartition(this=tag, collection=collection, exists=exists))

    def _parse_drop_partition_statement(self) -> DropPartition:
        exists = self._parse_exists()
        tag = self._parse_partition_tag()
        collection = self._parse_on_collection()
        return self.expression(DropPartition(this=tag, collection=collection, exists=exists))

    def _parse_show_partitions(self) -> ShowPartitions:
        """After SHOW PARTITIONS FROM | IN."""
        collection = self._parse_table_parts(schema=True)
        return self.expression(ShowPartitions(collection=collection))

    # --- PARTITION (tag, ...) after a table reference ---------------------------------------

    def _parse_partition(self) -> exp.Partition | None:
        if not self._at_partition_clause():
            return None
        self._advance()
        tags = self._parse_wrapped_csv(self._parse_partition_tag)
        return self.expression(exp.Partition(expressions=[exp.var(tag) for tag in tags]))

    def _parse_table(
        self,
        schema: bool = False,
        joins: bool = False,
        alias_tokens: t.Collection[TokenType] | None = None,
        parse_bracket: bool = False,
        is_db_reference: bool = False,
        parse_partition: bool = False,
        consume_pipe: bool = False,
    ) -> exp.Expr | None:
        this = super()._parse_table(
            schema=schema,
            joins=joins,
            alias_tokens=alias_tokens,
            parse_bracket=parse_bracket,
            is_db_reference=is_db_reference,
            parse_partition=parse_partition,
            consume_pipe=consume_pipe,
        )
        # sqlglot's hook leaves an exp.Partition in the Table's `partition` arg; the planner
        # reads plain tag strings from `partitions` (set, not built: not a Table arg_type).
        if isinstance(this, exp.Table):
            partition = this.args.get("partition")
            if isinstance(partition, exp.Partition):
                this.set("partition", None)
                this.set("partitions", [tag.name for tag in partition.expressions])
        return this

    # --- INSERT INTO coll PARTITION (tag) ---------------------------------------------------

    def _parse_insert_table(self) -> exp.Expr | None:
        # Postgres' target `name [AS alias] [(columns)]` with one PARTITION (tag) after any of
        # its parts. The tag rides on the Table until _parse_insert moves it to the Insert.
        table = self._parse_table_parts(schema=True)
        if table is None:
            return None  # only when errors are collected rather than raised
        tag = self._parse_insert_partition()
        if self._match(TokenType.ALIAS):
            alias = self._parse_id_var()
            if alias:
                table.set("alias", self.expression(exp.TableAlias(this=alias)))
            tag = self._parse_insert_partition(tag)
        this = self._parse_schema(this=table)
        tag = self._parse_insert_partition(tag)
        if tag is not None:
            table.set("partitions", [tag])
        return this

    def _parse_insert_partition(self, tag: str | None = None) -> str | None:
        """PARTITION (tag), unless a tag was read already (`tag`): a second one is an error
        where it starts, and `PARTITION (a, b)` fails at the comma: an insert has one target."""
        if tag is not None or not self._at_partition_clause():
            return tag
        self._advance()
        return self._parse_wrapped(self._parse_partition_tag)

    def _parse_insert(self) -> exp.Insert | exp.MultitableInserts:
        insert = super()._parse_insert()
        target = insert.this.this if isinstance(insert.this, exp.Schema) else insert.this
        if isinstance(target, exp.Table) and (tags := target.args.get("partitions")):
            target.set("partitions", None)
            insert.set("partition_tag", tags[0])
        return insert
