"""Rewrite rules over logical plans: each a plain function `rule(plan) -> plan`."""

from sqlvec.planner.rules.range import vector_range
from sqlvec.planner.rules.topk import vector_topk

# vector_range first: a distance bound in WHERE makes the query a range search, even with an
# ORDER BY ... LIMIT over the same distance.
RULES = (vector_range, vector_topk)
