"""Administration: FLUSH [collection, ...], COMPACT collection, ANALYZE [VERBOSE] [collection].

FLUSH and COMPACT are not Postgres words: they are statements only as a statement's first
word (Parser.WORD_STATEMENT_PARSERS), so `flush` and `compact` stay ordinary names elsewhere.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.tokens import TokenType

from sqlvec.parser.indexes import IndexParser
from sqlvec.parser.nodes import AnalyzeCollection, Compact, Explain, Flush


class AdminParser(IndexParser):
    def _parse_flush_statement(self) -> Flush:
        tables = self._parse_csv(lambda: self._parse_table_parts(schema=True)) if self._curr else []
        return self.expression(Flush(expressions=tables))

    def _parse_compact_statement(self) -> Compact:
        return self.expression(Compact(this=self._parse_table_parts(schema=True)))

    def _parse_explain_statement(self) -> Explain:
        analyze = verbose = False
        if self._match(TokenType.L_PAREN):
            # EXPLAIN (ANALYZE, VERBOSE false, COSTS off) ...: options with optional booleans.
            while not self._match(TokenType.R_PAREN):
                option = self._curr.text.upper() if self._curr else ""
                self._advance()
                value = True
                if self._curr and self._curr.text.upper() in (
                    "TRUE",
                    "ON",
                    "FALSE",
                    "OFF",
                    "1",
                    "0",
                ):
                    value = self._curr.text.upper() in ("TRUE", "ON", "1")
                    self._advance()
                analyze = value if option == "ANALYZE" else analyze
                verbose = value if option == "VERBOSE" else verbose
                self._match(TokenType.COMMA)
        else:
            analyze = bool(self._match(TokenType.ANALYZE))
            verbose = bool(self._match_text_seq("VERBOSE"))
        statement = self._parse_statement()
        if statement is None:
            self.raise_error("Expecting a statement after EXPLAIN")
        return self.expression(Explain(this=statement, analyze=analyze, verbose=verbose))

    def _parse_analyze_statement(self) -> exp.Expr:
        index = self._index
        verbose = self._match_text_seq("VERBOSE")
        table = None
        if self._curr and self._curr.token_type != TokenType.L_PAREN:
            table = self._parse_table_parts(schema=True)
        if not self._curr:
            return self.expression(AnalyzeCollection(this=table, verbose=verbose))
        # Postgres' other forms (a, b / a (column) / (VERBOSE) a): sqlglot's exp.Analyze, which
        # the planner answers with 0A000.
        self._retreat(index)
        return self._parse_analyze()
