"""Statements a session answers itself: transactions, SET / SHOW / RESET, savepoints.

Transaction blocks track status (I/T/E) as Postgres does, 25P02 included; each statement inside
a block still commits on its own (documented in docs/sql.md), so ROLLBACK warns when the block
wrote something it cannot undo.
"""

from __future__ import annotations

from sqlglot import exp

from sqlvec.engine.executor import Outcome
from sqlvec.engine.vector_index import SearchSettings
from sqlvec.errors import InFailedTransaction, NoActiveSqlTransaction, Notice
from sqlvec.parser.nodes import DefaultValue, ResetVariable, Savepoint, SetVariable, Show
from sqlvec.planner.plans import OutputColumn
from sqlvec.settings import STARTUP_SETTINGS, Settings, normalize_value
from sqlvec.types import TEXT
from sqlvec.wire.handler import TransactionStatus

_SESSION_NODES = (
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    SetVariable,
    ResetVariable,
    Show,
    Savepoint,
)


def is_session_statement(node: exp.Expr) -> bool:
    return isinstance(node, _SESSION_NODES)


class SessionStatements:
    def __init__(self) -> None:
        self.settings = Settings()
        self.status: TransactionStatus = "I"
        self._wrote_in_block = False
        self._before_local: dict[str, str] = {}

    def startup(self, params: dict[str, str], user: str) -> dict[str, str]:
        for name in STARTUP_SETTINGS:
            for key, value in params.items():
                if key.lower() == name:
                    self.settings.set(name, normalize_value(name, value))
        self.settings.set("session_authorization", user)
        return self.settings.reported()

    def fail(self) -> None:
        if self.status == "T":
            self.status = "E"

    def wrote(self) -> None:
        if self.status == "T":
            self._wrote_in_block = True

    def end_implicit_transaction(self) -> None:
        """Nothing to do: outside a block every statement already committed."""

    def describe(self, node: exp.Expr) -> list[OutputColumn] | None:
        if isinstance(node, Show):
            return [OutputColumn(_show_column(node), TEXT)]
        return None

    def search_settings(self) -> SearchSettings:
        return SearchSettings(
            nprobe=self.settings.explicit_integer("nprobe"),
            ef_search=self.settings.explicit_integer("ef_search"),
            search_length=self.settings.explicit_integer("search_length"),
            explain_recall=self.settings.get("explain_recall").lower() in ("on", "true", "1"),
        )

    def check_not_failed(self) -> None:
        if self.status == "E":
            raise InFailedTransaction(
                "current transaction is aborted, commands ignored until end of transaction block"
            )

    def run(self, node: exp.Expr) -> Outcome:
        if not isinstance(node, exp.Commit | exp.Rollback | Savepoint):
            self.check_not_failed()
        if isinstance(node, exp.Transaction):
            return self._begin("START TRANSACTION" if node.this == "START" else "BEGIN")
        if isinstance(node, exp.Commit):
            return self._end("ROLLBACK" if self.status == "E" else "COMMIT")
        if isinstance(node, exp.Rollback):
            return self._end("ROLLBACK")
        if isinstance(node, Savepoint):
            return self._savepoint(node)
        if isinstance(node, SetVariable):
            return self._set(node)
        if isinstance(node, ResetVariable):
            changed = self.settings.reset(node.name)
            return Outcome("RESET", parameter_status=changed)
        assert isinstance(node, Show)
        return self._show(node)

    def _begin(self, tag: str) -> Outcome:
        if self.status != "I":
            warning = _warning("there is already a transaction in progress", "25001")
            return Outcome(tag, notices=[warning])
        self.status = "T"
        self._wrote_in_block = False
        return Outcome(tag)

    def _end(self, tag: str) -> Outcome:
        notices = []
        if self.status == "I":
            notices.append(_warning("there is no transaction in progress", "25P01"))
        elif tag == "ROLLBACK" and self._wrote_in_block:
            notices.append(
                _warning(
                    "ROLLBACK does not undo the statements already run in this block: "
                    "sqlvec commits every statement when it completes",
                    "01000",
                )
            )
        self.status = "I"
        self._wrote_in_block = False
        restored: dict[str, str] = {}
        for name, value in self._before_local.items():
            restored.update(self.settings.set(name, value))
        self._before_local.clear()
        return Outcome(tag, notices=notices, parameter_status=restored)

    def _savepoint(self, node: Savepoint) -> Outcome:
        action = node.args.get("action", "savepoint")
        if self.status == "I":
            verb = action.upper().replace("_", " ")
            raise NoActiveSqlTransaction(f"{verb} can only be used in transaction blocks")
        if action == "rollback_to":
            self.status = "T"
            return Outcome("ROLLBACK")
        return Outcome("RELEASE" if action == "release" else "SAVEPOINT")

    def _set(self, node: SetVariable) -> Outcome:
        if node.args.get("kind") in ("transaction", "characteristics"):
            # Isolation levels and read-only modes: every statement is its own transaction.
            return Outcome("SET")
        if node.args.get("local"):
            if self.status == "I":
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
