"""Rewrite rules over logical plans: each a plain function `rule(plan) -> plan`."""

from sqlvec.planner.rules.topk import vector_topk

RULES = (vector_topk,)
