"""Statements a session answers itself: SET / SHOW / RESET (transaction statements are in
`session_transaction.py`, whose status SET LOCAL consults)."""

from __future__ import annotations

from sqlglot import exp

from sqlvec.engine.executor import Outcome
from sqlvec.engine.vector_index import SearchSettings
from sqlvec.errors import Notice
from sqlvec.parser.nodes import DefaultValue, ResetVariable, SetVariable, Show
from sqlvec.planner.plans import OutputColumn
from sqlvec.settings import STARTUP_SETTINGS, Settings, normalize_value
from sqlvec.types import TEXT

_SESSION_NODES = (SetVariable, ResetVariable, Show)


def is_session_statement(node: exp.Expr) -> bool:
    return isinstance(node, _SESSION_NODES)


class SessionStatements:
    def __init__(self) -> None:
        self.settings = Settings()
        self._before_local: dict[str, str] = {}
        self._derived: tuple[int, SearchSettings, int] | None = None  # (settings version, ...)

    def startup(self, params: dict[str, str], user: str) -> dict[str, str]:
        for name in STARTUP_SETTINGS:
            for key, value in params.items():
                if key.lower() == name:
                    self.settings.set(name, normalize_value(name, value))
        self.settings.set("session_authorization", user)
        return self.settings.reported()

    def end_block(self) -> dict[str, str]:
        """A transaction block ended: SET LOCAL values go; returns the changed statuses."""
        restored: dict[str, str] = {}
        for name, value in self._before_local.items():
            restored.update(self.settings.set(name, value))
        self._before_local.clear()
        return restored

    def describe(self, node: exp.Expr) -> list[OutputColumn] | None:
        if isinstance(node, Show):
            return [OutputColumn(_show_column(node), TEXT)]
        return None

    def search_settings(self) -> SearchSettings:
        """The search parameters of the session's settings (made again only after a change:
        this runs on every statement)."""
        cached = self._derived
        if cached is None or cached[0] != self.settings.version:
            cached = (self.settings.version, self._search_settings(), self._timeout())
            self._derived = cached
        return cached[1]

    def statement_timeout_ms(self) -> int:
        self.search_settings()
        assert self._derived is not None
        return self._derived[2]

    def _timeout(self) -> int:
        return self.settings.milliseconds("statement_timeout")

    def _search_settings(self) -> SearchSettings:
        return SearchSettings(
            nprobe=self.settings.explicit_integer("nprobe"),
            ef_search=self.settings.explicit_integer("ef_search"),
            search_length=self.settings.explicit_integer("search_length"),
            explain_recall=self.settings.get("explain_recall").lower() in ("on", "true", "1"),
        )

    def run(self, node: exp.Expr, in_block: bool) -> Outcome:
        if isinstance(node, SetVariable):
            return self._set(node, in_block)
        if isinstance(node, ResetVariable):
            changed = self.settings.reset(node.name)
            return Outcome("RESET", parameter_status=changed)
        assert isinstance(node, Show)
        return self._show(node)

    def _set(self, node: SetVariable, in_block: bool) -> Outcome:
        if node.args.get("kind") in ("transaction", "characteristics"):
            # Isolation levels and read-only modes: DuckDB gives every block snapshot isolation.
            return Outcome("SET")
        if node.args.get("local"):
            if not in_block:
                warning = _warning("SET LOCAL can only be used in transaction blocks", "25P01")
                return Outcome("SET", notices=[warning])
            # Remember the value before the block's first SET LOCAL; the block's end restores it.
            self._before_local.setdefault(node.name, self.settings.get(node.name))
        if any(isinstance(v, DefaultValue) for v in node.expressions):
            return Outcome("SET", parameter_status=self.settings.reset(node.name))
        value = ", ".join(_setting_text(v) for v in node.expressions)
        return Outcome("SET", parameter_status=self.settings.set(node.name, value))

    def _show(self, node: Show) -> Outcome:
        column = _show_column(node)
        if node.name.lower() == "all":
            rows = [(name, value) for name, value in self.settings.all()]
            columns = [OutputColumn("name", TEXT), OutputColumn("setting", TEXT)]
            return Outcome(f"SHOW {len(rows)}", columns, rows)
        return Outcome("SHOW", [OutputColumn(column, TEXT)], [(self.settings.get(node.name),)])


def _show_column(node: Show) -> str:
    return node.name.lower()


def _setting_text(value: exp.Expr) -> str:
    if isinstance(value, exp.Literal | exp.Identifier | exp.Var):
        return str(value.this)
    if isinstance(value, exp.Column):
        return value.name
    if isinstance(value, exp.Boolean):
        return "on" if value.this else "off"
    return value.sql("postgres") if isinstance(value, exp.Expr) else str(value)


def _warning(message: str, sqlstate: str) -> Notice:
    return Notice(message, severity="WARNING", sqlstate=sqlstate)
