"""Physical plans: what the executor runs. Built once per statement, run once per Execute.

Values that depend on Bind parameters are `Evaluator`s, so a prepared statement's plan is reused
with new parameters and nothing is parsed or planned again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlvec.engine.catalog import CollectionSpec
from sqlvec.engine.index_types import IndexDef
from sqlvec.types import INT8, TEXT, PgType

Params = Sequence[Any]
Evaluator = Callable[[Params], Any]


@dataclass(frozen=True)
class OutputColumn:
    name: str
    type: PgType
    typmod: int = -1


@dataclass(frozen=True)
class DuckSql:
    """A DuckDB statement with its parameters renumbered densely: `$i` is params[indexes[i-1]]."""

    sql: str
    param_indexes: tuple[int, ...]

    def bind(self, params: Params) -> list[Any]:
        return [params[i] for i in self.param_indexes]


@dataclass(frozen=True)
class CreateCollectionPlan:
    spec: CollectionSpec
    if_not_exists: bool
    tag: str


@dataclass(frozen=True)
class DropCollectionPlan:
    names: tuple[str, ...]
    if_exists: bool
    tag: str


@dataclass(frozen=True)
class ShowCollectionsPlan:
    columns: tuple[OutputColumn, ...] = (OutputColumn("name", TEXT),)


@dataclass(frozen=True)
class InsertPlan:
    collection: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Evaluator, ...], ...]
    returning: ResultProjection | None
    partition: str | None = None  # INSERT INTO coll PARTITION (tag); None: the default
    # INSERT ... SELECT: the query whose rows are inserted (`rows` is empty), and per target
    # column the assignment coercion of its values.
    source: object | None = None
    coercions: tuple[Callable[[Any], Any], ...] = ()


@dataclass(slots=True)  # never changed once made; not frozen: made on every search
class RowsContext:
    """What a projection over collection rows can read."""

    collection: str
    positions: Any  # np.ndarray of row positions
    distances: Any  # np.ndarray of the ORDER BY distances, or None
    params: Params


RowProducer = Callable[[Any, RowsContext], list[Any]]  # (engine, context) -> one value per row


@dataclass(frozen=True)
class ResultProjection:
    columns: tuple[OutputColumn, ...]
    producers: tuple[RowProducer, ...]
    # Whether every output is a stored column or the ORDER BY distance: then it does not
    # depend on the query vector, and a batch projects all of its searches' rows at once.
    query_free: bool = False


@dataclass(frozen=True)
class VectorTopKPlan:
    """Exact k-nearest search over one collection, optionally over a DuckDB-filtered subset."""

    collection: str
    column: str
    metric: str  # of the ORDER BY operator: l2, ip, cosine, l1
    query: Evaluator
    limit: Evaluator | None
    offset: Evaluator | None
    descending: bool
    filter: DuckSql | None  # selects the ids of the rows that qualify
    projection: ResultProjection
    partitions: tuple[str, ...] | None = None  # FROM coll PARTITION (...); None: all
    query_sql: DuckSql | None = None  # the query vector is a scalar subquery's value
    # The same WHERE as `filter`, when simple enough to evaluate over the in-memory columns
    # (sqlvec.planner.row_predicate.RowPredicate); `filter` is then only EXPLAIN's fallback.
    row_filter: Any = None
    # WHERE fixes the partition key to these values: only their partitions are searched.
    key_values: tuple[Evaluator, ...] | None = None


@dataclass(frozen=True)
class VectorRangePlan:
    """The rows within a distance of a query vector (`WHERE e <-> q < r`), through Faiss'
    range search where a segment's index has one, exactly elsewhere.

    `search` describes everything but the bound (query, filter, partitions, LIMIT, OFFSET,
    projection); its `descending` orders the result. The bound is `f(distance) <comparison>
    bound(params)` with f given by `transform` (see planner.logical.DistanceBound)."""

    search: VectorTopKPlan
    transform: tuple[tuple[str, float], ...]
    comparison: str
    bound: Evaluator
    ordered: bool  # ORDER BY the distance; else the rows come in any order
    # ORDER BY the same distance to a second query vector (`... < r ORDER BY e <-> $2`): the
    # range search runs only when it equals `search.query`'s; otherwise `fallback`, the
    # statement run exactly by DuckDB (a DuckPlan), does. None: ORDER BY the bound's distance.
    order_query: Evaluator | None = None
    fallback: Any = None


@dataclass(frozen=True)
class ConstantPlan:
    """A SELECT without FROM that sqlvec evaluates itself (vector expressions, parameters)."""

    columns: tuple[OutputColumn, ...]
    values: tuple[Evaluator, ...]


@dataclass(frozen=True)
class DuckPlan:
    """Scalar SQL run by DuckDB. `columns` None: learn names and types from DuckDB."""

    query: DuckSql
    describe_sql: str  # the query with parameters as typed NULLs, for Describe before Bind
    column_names: tuple[str, ...] | None = None
    # Table functions in FROM (sqlvec_collection_stats('docs')): relation name -> collection.
    stats_relations: tuple[tuple[str, str], ...] = ()
    reads_catalog: bool = False  # reads the emulated pg_catalog (refreshed first after DDL)


@dataclass(frozen=True)
class Plan:
    """A planned statement: the node to run and the parameter types it expects."""

    node: Any
    param_types: list[PgType] = field(default_factory=list)


@dataclass(frozen=True)
class CreatePartitionPlan:
    collection: str
    tag: str
    if_not_exists: bool


@dataclass(frozen=True)
class DropPartitionPlan:
    collection: str
    tag: str
    if_exists: bool


@dataclass(frozen=True)
class ShowPartitionsPlan:
    collection: str
    columns: tuple[OutputColumn, ...] = (
        OutputColumn("partition", TEXT),
        OutputColumn("row_count", INT8),
    )


@dataclass(frozen=True)
class CreateIndexPlan:
    collection: str
    definition: IndexDef
    if_not_exists: bool


@dataclass(frozen=True)
class DropIndexPlan:
    name: str | None  # None: every index of `collection`
    collection: str | None
    if_exists: bool


@dataclass(frozen=True)
class FlushPlan:
    collections: tuple[str, ...]


@dataclass(frozen=True)
class CompactPlan:
    collection: str


@dataclass(frozen=True)
class AnalyzePlan:
    collections: tuple[str, ...]
    columns: tuple[OutputColumn, ...] = (
        OutputColumn("collection", TEXT),
        OutputColumn("column_name", TEXT),
        OutputColumn("finding", TEXT),
        OutputColumn("value", TEXT),
        OutputColumn("advice", TEXT),
    )


@dataclass(frozen=True)
class DeletePlan:
    collection: str
    ids: DuckSql  # selects the ids of the rows to delete


@dataclass(frozen=True)
class UpdatePlan:
    collection: str
    columns: tuple[str, ...]
    rows: DuckSql  # selects the id, then the new value of each column, of each matching row


@dataclass(frozen=True)
class BatchTopKPlan:
    """A LATERAL join of a vector search: one batched search for every outer row."""

    outer: DuckSql  # the outer rows, numbered in column __sqlvec_row
    outer_describe: str  # the same with typed NULL parameters and LIMIT 0
    outer_vector: str  # the outer column that holds each query vector
    inner: VectorTopKPlan  # its query vector is parameter `query_param`
    query_param: int
    final: DuckSql  # the statement over the relations sqlvec_outer and sqlvec_lateral
    final_describe: str
    # Where the statement only lists columns of either side (`SELECT q.qid, r.id, r.distance`
    # with no WHERE, ORDER BY, ...): per output column (True for the outer side, its column
    # name), so the rows are composed without the final DuckDB join. None otherwise.
    direct: tuple[tuple[bool, str], ...] | None = None
    keep_unmatched: bool = False  # LEFT JOIN: an outer row without search rows gets NULLs


@dataclass(frozen=True)
class SearchSubqueryPlan:
    """A statement around top-k searches in it (kNN subqueries or CTEs, or a search whose
    outputs the search does not compute): each search runs through the indexes, and DuckDB
    runs `final` over their rows, the relations `search_relation(i)`, nearest first."""

    searches: tuple[VectorTopKPlan, ...]
    final: DuckPlan


SEARCH_RELATION = "sqlvec_search"


def search_relation(index: int) -> str:
    """The relation that holds the rows of a statement's search `index` (0-based)."""
    return SEARCH_RELATION if index == 0 else f"{SEARCH_RELATION}_{index}"


@dataclass(frozen=True)
class ExplainPlan:
    inner: object  # the explained statement's plan
    analyze: bool
