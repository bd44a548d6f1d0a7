"""Statements a session answers itself: SET / SHOW / RESET (transaction statements are in
`session_transaction.py`, whose status SET LOCAL consults)."""

from __future__ import annotations

from sqlglot import exp

from sqlvec.engine.executor import Outcome
from sqlvec.engine.vector_index import SearchSettings
from sqlvec.errors import Notice, UndefinedObject
from sqlvec.parser.nodes import DefaultValue, ResetVariable, SetVariable, Show
from sqlvec.planner.plans import OutputColumn
from sqlvec.settings import STARTUP_SETTINGS, Settings, normalize_value
from sqlvec.types import TEXT

_SESSION_NODES = (SetVariable, ResetVariable, Show)


def is_session_statement(node: exp.Expr) -> bool:
    return isinstance(node, _SESSION_NODES) or _setting_calls(node) is not None


def _setting_calls(node: exp.Expr) -> list[tuple[str, str, list[exp.Expr]]] | None:
    """`SELECT current_setting('x')` / `SELECT set_config('x', 'v', false)`, literals only:
    (output name, function, arguments) per select item, or None for any other statement.

    The session answers these itself: settings live in the session, not in DuckDB, and a
    plan cached by SQL text must not keep a value that a later SET changes."""
    if not isinstance(node, exp.Select) or any(
        node.args.get(key) for key in ("from", "where", "group", "having", "order", "limit")
    ):
        return None
    calls = []
    for item in node.expressions:
        call = item.this if isinstance(item, exp.Alias) else item
        if isinstance(call, exp.Dot) and call.this.name.lower() == "pg_catalog":
            call = call.expression
        if not isinstance(call, exp.Anonymous) or call.name.lower() not in _SETTING_FUNCTIONS:
            return None
        arguments = list(call.expressions)
        if len(arguments) not in _SETTING_FUNCTIONS[call.name.lower()] or not all(
            isinstance(a, exp.Literal | exp.Boolean) for a in arguments
        ):
            return None
        name = item.alias if isinstance(item, exp.Alias) else call.name.lower()
        calls.append((name, call.name.lower(), arguments))
    return calls or None


_SETTING_FUNCTIONS = {"current_setting": (1, 2), "set_config": (3,)}


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
        for name, value in startup_options(params.get("options", "")):
            self.settings.set(name, value)
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
        calls = _setting_calls(node)
        if calls is not None:
            return [OutputColumn(name, TEXT) for name, _, _ in calls]
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
        if isinstance(node, Show):
            return self._show(node)
        return self._setting_functions(node, in_block)

    def _setting_functions(self, node: exp.Expr, in_block: bool) -> Outcome:
        calls = _setting_calls(node)
        assert calls is not None
        values: list[str | None] = []
        changed: dict[str, str] = {}
        for _, function, arguments in calls:
            name = str(arguments[0].this)
            if function == "current_setting":
                missing_ok = len(arguments) == 2 and _truth(arguments[1])
                values.append(self._current(name, missing_ok))
                continue
            value, local = str(arguments[1].this), _truth(arguments[2])
            if local:
                if not in_block:
                    values.append(value)  # Postgres: a local change outside a block lasts 0 s
                    continue
                self._before_local.setdefault(name, self.settings.get(name))
            changed.update(self.settings.set(name, value))
            values.append(self.settings.get(name))
        columns = [OutputColumn(name, TEXT) for name, _, _ in calls]
        return Outcome("SELECT 1", columns, [tuple(values)], parameter_status=changed)

    def _current(self, name: str, missing_ok: bool) -> str | None:
        try:
            return self.settings.get(name)
        except UndefinedObject:
            if missing_ok:
                return None
            raise

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


def startup_options(options: str) -> list[tuple[str, str]]:
    """The `-c name=value` / `--name=value` pairs of the startup `options` parameter (libpq's
    PGOPTIONS), with Postgres' backslash escapes for spaces."""
    words, current, escaped = [], "", False
    for char in options:
        if escaped:
            current, escaped = current + char, False
        elif char == "\\":
            escaped = True
        elif char.isspace():
            if current:
                words.append(current)
            current = ""
        else:
            current += char
    if current:
        words.append(current)
    pairs = []
    for index, word in enumerate(words):
        if word == "-c" and index + 1 < len(words):
            word = "--" + words[index + 1]
        elif word.startswith("-c") and len(word) > 2:
            word = "--" + word[2:]
        if word.startswith("--") and "=" in word:
            name, value = word[2:].split("=", 1)
            pairs.append((name.replace("-", "_"), value))
    return pairs


def _truth(node: exp.Expr) -> bool:
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    return str(node.this).lower() in ("true", "t", "on", "1", "yes")


def _warning(message: str, sqlstate: str) -> Notice:
    return Notice(message, severity="WARNING", sqlstate=sqlstate)
