"""The `sqlvec` sqlglot dialect: Postgres plus pgvector operators and sqlvec's statements.

Importing this module registers the dialect, so `sqlglot.parse_one(sql, read="sqlvec")` and
`expression.sql(dialect="sqlvec")` work as for any built-in dialect.
"""

from __future__ import annotations

from sqlglot.dialects.postgres import Postgres

from sqlvec.parser.generator import SqlvecGenerator
from sqlvec.parser.grammar import SqlvecParser
from sqlvec.parser.tokens import SqlvecTokenizer


class Sqlvec(Postgres):
    Tokenizer = SqlvecTokenizer
    Parser = SqlvecParser
    Generator = SqlvecGenerator


# The one instance everything shares: dialects are immutable, building one per call is waste.
DIALECT = Sqlvec()
