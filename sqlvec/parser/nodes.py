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
