"""From a parsed statement to a plan: binding, logical plan, rewrite rules, physical plan."""

from __future__ import annotations

from sqlglot import exp
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from sqlvec.errors import FeatureNotSupported
from sqlvec.parser.nodes import CreateCollection, DropCollection, Explain, ShowCollections
from sqlvec.planner.collection_admin import ADMIN_NODES, plan_admin
from sqlvec.planner.context import Catalog, PlanContext
from sqlvec.planner.copy import plan_copy
from sqlvec.planner.ddl import plan_create, plan_drop
from sqlvec.planner.dml import plan_delete, plan_update
from sqlvec.planner.insert import plan_insert
from sqlvec.planner.plans import ExplainPlan, Plan, ShowCollectionsPlan
from sqlvec.planner.select import plan_select
from sqlvec.planner.values import ParamTypes, parameter_index

__all__ = ["Catalog", "Plan", "plan"]


def plan(
    statement: exp.Expr,
    catalog: Catalog,
    param_oids: list[int],
    constants: dict[str, str],
    exact_vectors: bool = False,
) -> Plan:
    ctx = PlanContext(catalog, ParamTypes(param_oids), constants, exact_vectors)
    # Unquoted identifiers fold to lower case, as in Postgres: `Docs` is `docs`.
    statement = normalize_identifiers(statement.copy(), dialect="postgres")
    node = _plan_node(statement, ctx)
    # Planning may add parameters of its own (a LATERAL search's query vector): not the client's.
    count = max((parameter_index(p) + 1 for p in statement.find_all(exp.Parameter)), default=0)
    return Plan(node, ctx.params.resolved()[: max(count, len(param_oids))])


def _plan_node(statement: exp.Expr, ctx: PlanContext) -> object:
    if isinstance(statement, CreateCollection):
        return plan_create(statement)
    if isinstance(statement, DropCollection):
        return plan_drop(statement)
    if isinstance(statement, ShowCollections):
        return ShowCollectionsPlan()
    if isinstance(statement, exp.Insert):
        return plan_insert(statement, ctx)
    if isinstance(statement, exp.Query):
        return plan_select(statement, ctx)
    if isinstance(statement, Explain):
        return ExplainPlan(_plan_node(statement.this, ctx), bool(statement.args.get("analyze")))
    if isinstance(statement, ADMIN_NODES):
        return plan_admin(statement, ctx)
    if isinstance(statement, exp.Create) and str(statement.args.get("kind", "")).upper() == "INDEX":
        raise FeatureNotSupported("only single-column vector indexes are supported")
    if isinstance(statement, exp.Delete):
        return plan_delete(statement, ctx)
    if isinstance(statement, exp.Update):
        return plan_update(statement, ctx)
    if isinstance(statement, exp.Copy):
        return plan_copy(statement, ctx)
    raise FeatureNotSupported(f"statement is not supported: {_describe(statement)}")


def _describe(statement: exp.Expr) -> str:
    """The statement's leading words, for the 0A000 message."""
    if isinstance(statement, exp.Command):
        rest = str(statement.args.get("expression") or "").strip()
        return f"{str(statement.this).upper()} {rest}".strip()[:80]
    return statement.sql("postgres").split("(")[0].strip()[:80]
