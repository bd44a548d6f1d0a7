"""EXPLAIN statements keep the explained statement as a parsed node."""

from __future__ import annotations

import pytest

from sqlvec.errors import SyntaxError
from sqlvec.parser import Explain, parse_one
from sqlvec.parser.nodes import L2Distance


@pytest.mark.parametrize(
    ("sql", "analyze"),
    [
        ("EXPLAIN SELECT 1", False),
        ("explain analyze select 1", True),
        ("EXPLAIN ANALYZE VERBOSE SELECT 1", True),
        ("EXPLAIN (ANALYZE, COSTS off) SELECT 1", True),
        ("EXPLAIN (ANALYZE false) SELECT 1", False),
    ],
)
def test_explain_flags(sql: str, analyze: bool) -> None:
    node = parse_one(sql)
    assert isinstance(node, Explain)
    assert bool(node.args.get("analyze")) is analyze


def test_explain_keeps_the_vector_search() -> None:
    node = parse_one("EXPLAIN SELECT id FROM docs ORDER BY embedding <-> $1 LIMIT 3")
    assert node.this.find(L2Distance) is not None
    assert node.sql("sqlvec") == "EXPLAIN SELECT id FROM docs ORDER BY embedding <-> $1 LIMIT 3"


def test_explain_needs_a_statement() -> None:
    with pytest.raises(SyntaxError):
        parse_one("EXPLAIN")
