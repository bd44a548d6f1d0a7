"""The logical plan of a SELECT over one collection, before rewrite rules.

Scan -> Filter -> Project -> Sort -> Limit, as Postgres reads the statement; rules in
`sqlvec.planner.rules` rewrite it (Sort + Limit over a distance becomes VectorTopK) and
`sqlvec.planner.physical` turns the result into something the executor runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from sqlvec.engine.catalog import CollectionSpec


@dataclass(frozen=True)
class Scan:
    collection: CollectionSpec
    alias: str | None = None
    partitions: tuple[str, ...] | None = None  # FROM coll PARTITION (...)


@dataclass(frozen=True)
class Filter:
    input: Scan
    predicate: exp.Expr


@dataclass(frozen=True)
class Output:
    name: str
    expression: exp.Expr


@dataclass(frozen=True)
class Project:
    input: LogicalNode
    outputs: tuple[Output, ...]


@dataclass(frozen=True)
class SortKey:
    expression: exp.Expr
    descending: bool


@dataclass(frozen=True)
class Sort:
    input: LogicalNode
    keys: tuple[SortKey, ...]


@dataclass(frozen=True)
class Limit:
    input: LogicalNode
    limit: exp.Expr | None
    offset: exp.Expr | None


@dataclass(frozen=True)
class VectorTopK:
    """The k rows of `input` nearest a query vector: one Faiss search, no sort."""

    input: Scan | Filter
    column: str
    distance: exp.Expr  # the VectorDistance node that orders the rows
    query: exp.Expr
    descending: bool
    limit: exp.Expr | None
    offset: exp.Expr | None


@dataclass(frozen=True)
class DistanceBound:
    """`f(distance) <op> bound` in WHERE, where f is linear (`1 - d`, `-d`, `2 * d + 1`, ...)
    and the comparison caps the distance from above: a range search.

    `transform` is f as steps applied to the distance in order: ("neg", 0), ("rsub", c) for
    c - x, ("add", c), ("sub", c), ("mul", c). `comparison` is one of < <= > >=, with f's value
    on its left."""

    transform: tuple[tuple[str, float], ...]
    comparison: str
    bound: exp.Expr  # a constant or a parameter


@dataclass(frozen=True)
class VectorRange:
    """The rows of `input` within a distance of a query vector, ordered by that distance when
    `ordered` (else in any order), at most `limit` of them."""

    input: Scan | Filter  # the rest of WHERE, if any, is a scalar Filter
    column: str
    distance: exp.Expr  # the VectorDistance node the bound applies to
    query: exp.Expr
    bound: DistanceBound
    ordered: bool
    descending: bool
    limit: exp.Expr | None
    offset: exp.Expr | None
    # ORDER BY the same distance to another constant or parameter (`WHERE e <-> $1 < r ORDER
    # BY e <-> $2`, as drivers send a value given twice): the range search applies only when
    # both vectors are equal at run time. None: ORDER BY the bound's own distance, or none.
    order_query: exp.Expr | None = None


LogicalNode = Scan | Filter | Project | Sort | Limit | VectorTopK | VectorRange


class NotAVectorSearch(Exception):
    """The query uses vectors but is not a top-k search: DuckDB runs it, exactly, instead."""


class UncomputedOutput(NotAVectorSearch):
    """A top-k search whose select list has what the search does not compute (a function of
    a row's values): the search runs, and DuckDB computes the outputs over its rows."""
