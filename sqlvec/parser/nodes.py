"""AST nodes the sqlvec dialect adds to sqlglot's expression tree.

Each class follows sqlglot's conventions: `arg_types` names the children (True = required) and
the key is the lower-cased class name. Session-level names (settings, savepoints) are stored as
plain strings already folded the way Postgres folds them, so the session compares them directly;
DDL keeps sqlglot's own `exp.Table` / `exp.Schema` / `exp.ColumnDef` nodes for the planner.
"""

from __future__ import annotations

import typing as t

from sqlglot import exp

# --- vector distance operators -------------------------------------------------------------


class VectorDistance(exp.Expression, exp.Binary):
    """`left <op> right`: a pgvector distance. Subclasses fix the operator and the metric."""

    operator: t.ClassVar[str] = ""
    metric: t.ClassVar[str] = ""


class L2Distance(VectorDistance):
    operator = "<->"
    metric = "l2"


class NegInnerProduct(VectorDistance):
    operator = "<#>"
    metric = "ip"


class CosineDistance(VectorDistance):
    operator = "<=>"
    metric = "cosine"


class L1Distance(VectorDistance):
    operator = "<+>"
    metric = "l1"


# pgvector's bit-vector operators. Claimed so that they can never be mis-parsed (sqlglot reads
# `a <%> b` as `a < %s > b`); the planner decides whether it supports them.
class HammingDistance(VectorDistance):
    operator = "<~>"
    metric = "hamming"


class JaccardDistance(VectorDistance):
    operator = "<%>"
    metric = "jaccard"


DISTANCE_OPERATORS: tuple[type[VectorDistance], ...] = (
    L2Distance,
    NegInnerProduct,
    CosineDistance,
    L1Distance,
    HammingDistance,
    JaccardDistance,
)

# --- DDL -----------------------------------------------------------------------------------


class CreateCollection(exp.Expression):
    """CREATE COLLECTION | TABLE [IF NOT EXISTS] name (columns, constraints) [WITH (k = v, ...)].

    this: exp.Schema(this=exp.Table, expressions=[exp.ColumnDef | constraint, ...])
    exists: IF NOT EXISTS was given
    kind: 'COLLECTION' or 'TABLE' (the command tag says CREATE <kind>)
    options: [exp.Property(this=exp.Var(lower-case key), value=exp.Literal), ...]
    """

    arg_types = {"this": True, "exists": False, "kind": True, "options": False}


class DropCollection(exp.Expression):
    """DROP COLLECTION | TABLE [IF EXISTS] a [, b] [CASCADE | RESTRICT]."""

    arg_types = {"expressions": True, "exists": False, "kind": True, "cascade": False}


class ShowCollections(exp.Expression):
    """SHOW COLLECTIONS (kind 'COLLECTIONS') or its alias SHOW TABLES (kind 'TABLES')."""

    arg_types = {"kind": False}


# --- session statements --------------------------------------------------------------------


class Show(exp.Expression):
    """SHOW name: `this` is the setting name, lower-case, dotted names kept ('hnsw.ef_search').

    Postgres' multiword forms arrive under the GUC names Postgres itself maps them to
    (TIME ZONE -> 'timezone', TRANSACTION ISOLATION LEVEL -> 'transaction_isolation').
    """

    arg_types = {"this": True}


class DefaultValue(exp.Var):
    """The DEFAULT keyword as a SET value (`SET x TO DEFAULT`, `SET TIME ZONE LOCAL`).

    A Var whose text is 'DEFAULT' (build it as `DefaultValue(this="DEFAULT")`), so code that
    reads any Var's text sees DEFAULT; test `isinstance(value, DefaultValue)` to tell it from
    the string 'default'.
    """


class SetVariable(exp.Expression):
    """SET [SESSION | LOCAL] name {TO | =} value [, ...].

    this: setting name, lower-case, dotted names kept
    expressions: exp.Literal values (bare words as lower-cased strings, quoted identifiers as
        their exact text, numbers as numbers) or a single DefaultValue
    local: SET LOCAL (lasts until the end of the transaction)
    kind: None for a setting; 'transaction' for SET TRANSACTION and 'characteristics' for
        SET SESSION CHARACTERISTICS AS TRANSACTION, whose expressions are exp.Var modes such
        as 'ISOLATION LEVEL READ COMMITTED', 'READ ONLY', 'NOT DEFERRABLE'
    """

    arg_types = {"this": True, "expressions": False, "local": False, "kind": False}


class ResetVariable(exp.Expression):
    """RESET name | RESET ALL: `this` is the setting name or 'all'."""

    arg_types = {"this": True}


class Savepoint(exp.Expression):
    """SAVEPOINT name, RELEASE [SAVEPOINT] name, ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] name.

    this: the savepoint name, folded like a Postgres identifier (lower-case unless quoted)
    action: 'savepoint' | 'release' | 'rollback_to'
    """

    arg_types = {"this": True, "action": True}


# --- partitions (Milvus partition tags) ----------------------------------------------------
#
# A tag is stored as a plain string, folded like a Postgres identifier (lower-case unless
# quoted); a tag written as a string literal keeps its text exactly. Where a statement names
# partitions rather than creating them:
#   SELECT ... FROM coll PARTITION (t1, t2): the exp.Table carries arg `partitions`, a list of
#       tag strings (any exp.Table: joins, subqueries, DELETE / UPDATE targets alike)
#   INSERT INTO coll PARTITION (tag) ...: the exp.Insert carries arg `partition_tag`, one tag
#       string (sqlglot's own Insert `partition` arg is ClickHouse's PARTITION BY)


class CreatePartition(exp.Expression):
    """CREATE PARTITION [IF NOT EXISTS] tag ON collection.

    this: the tag (str)
    collection: exp.Table
    exists: IF NOT EXISTS was given
    """

    arg_types = {"this": True, "collection": True, "exists": False}


class DropPartition(exp.Expression):
    """DROP PARTITION [IF EXISTS] tag ON collection: args as CreatePartition's.

    Not sqlglot's exp.DropPartition (Hive's ALTER TABLE ... DROP PARTITION), whose key it shares.
    """

    arg_types = {"this": True, "collection": True, "exists": False}


class ShowPartitions(exp.Expression):
    """SHOW PARTITIONS {FROM | IN} collection: `collection` is an exp.Table."""

    arg_types = {"collection": True}


# --- indexes -------------------------------------------------------------------------------


class CreateVectorIndex(exp.Expression):
    """CREATE INDEX [CONCURRENTLY] [IF NOT EXISTS] [name] ON collection [USING method]
    (column [opclass]) [WITH (key = value, ...)].

    this: index name (str, folded like an identifier) or None when omitted
    collection: exp.Table
    method: lower-case method name as written ('ivf_flat', 'hnsw', 'ivfflat', 'faiss', ...) or
        None; the planner decides which it knows
    column: the indexed column (str, folded like an identifier)
    opclass: lower-case operator class ('vector_cosine_ops') or None
    options: [exp.Property(this=exp.Var(lower-case key), value=exp.Literal), ...]; each also
        has arg `raw_key`, the key as written ('efConstruction'), for Milvus' camel-case names
    exists: IF NOT EXISTS was given
    concurrently: CONCURRENTLY was given (accepted; building is in the background anyway)

    Only the single-column form is this node: a multi-column or expression index, or one with
    INCLUDE / WHERE / TABLESPACE / NULLS [NOT] DISTINCT, stays sqlglot's exp.Create(kind='INDEX').
    """

    arg_types = {
        "this": False,
        "collection": True,
        "method": False,
        "column": True,
        "opclass": False,
        "options": False,
        "exists": False,
        "concurrently": False,
    }


class DropVectorIndex(exp.Expression):
    """DROP INDEX [CONCURRENTLY] [IF EXISTS] {name [ON collection] | ON collection}
    [CASCADE | RESTRICT].

    this: index name (str, folded like an identifier) or None for `DROP INDEX ON collection`
    collection: exp.Table or None (given with ON: the index of that collection)
    exists: IF EXISTS was given
    concurrently: CONCURRENTLY was given
    cascade: CASCADE was given

    A schema-qualified name or a list of names stays sqlglot's exp.Drop(kind='INDEX').
    """

    arg_types = {
        "this": False,
        "collection": False,
        "exists": False,
        "concurrently": False,
        "cascade": False,
    }


# --- administration ------------------------------------------------------------------------


class Flush(exp.Expression):
    """FLUSH [collection, ...]: `expressions` is a list of exp.Table, empty for all."""

    arg_types = {"expressions": False}


class Compact(exp.Expression):
    """COMPACT collection: `this` is an exp.Table."""

    arg_types = {"this": True}


class AnalyzeCollection(exp.Expression):
    """ANALYZE [VERBOSE] [collection]: `this` is an exp.Table, or None for every collection.

    Postgres' other ANALYZE forms (several tables, a column list, parenthesised options) stay
    sqlglot's exp.Analyze.
    """

    arg_types = {"this": False, "verbose": False}


class Explain(exp.Expression):
    """EXPLAIN [ANALYZE] [VERBOSE] statement, or EXPLAIN (ANALYZE [on|off], ...) statement.

    this: the explained statement (a parsed node)
    analyze: the statement runs, and the plan reports rows and timings
    verbose: VERBOSE was given (accepted; the plan text is the same)
    """

    arg_types = {"this": True, "analyze": False, "verbose": False}
