"""What running a statement produced: its tag, columns, rows and notices."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlvec.errors import Notice
from sqlvec.planner.plans import OutputColumn


@dataclass
class Outcome:
    tag: str
    columns: list[OutputColumn] | None = None
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    parameter_status: dict[str, str] = field(default_factory=dict)
