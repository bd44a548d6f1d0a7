"""Utility commands clients send that act on the session's own objects.

psycopg sends DEALLOCATE when its prepared-statement cache overflows; asyncpg's pool reset
sends `CLOSE ALL; UNLISTEN *; RESET ALL`; poolers send DISCARD ALL. They arrive from the parser
as `exp.Command` (verb + the rest of the text).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from sqlvec.errors import FeatureNotSupported, InvalidCursorName, InvalidSqlStatementName

VERBS = frozenset({"DEALLOCATE", "DISCARD", "CLOSE", "LISTEN", "UNLISTEN"})


@dataclass(frozen=True)
class Command:
    verb: str
    argument: str  # what follows the verb, without PREPARE in DEALLOCATE PREPARE

    @property
    def is_all(self) -> bool:
        return self.argument.upper() in ("ALL", "*")


def session_command(node: exp.Expr) -> Command | None:
    """The command when `node` is one of VERBS, else None."""
    if not isinstance(node, exp.Command):
        return None
    verb = str(node.this).upper()
    if verb not in VERBS:
        return None
    argument = str(node.args.get("expression") or "").strip()
    if verb == "DEALLOCATE" and argument.upper().startswith("PREPARE "):
        argument = argument[len("PREPARE ") :].strip()
    return Command(verb, _unquote(argument))


def _unquote(name: str) -> str:
    if len(name) >= 2 and name[0] == name[-1] == '"':
        return name[1:-1].replace('""', '"')
    return name.lower()


class SessionObjects:
    """What the commands act on: the session's prepared statements and portals."""

    def __init__(self, statements: MutableMapping[str, Any], portals: MutableMapping[str, Any]):
        self.statements = statements
        self.portals = portals

    def run(self, command: Command) -> str:
        """Carry out the command; returns its CommandComplete tag."""
        if command.verb == "DEALLOCATE":
            return self._deallocate(command)
        if command.verb == "CLOSE":
            return self._close(command)
        if command.verb == "DISCARD":
            if command.argument.upper() != "ALL":
                raise FeatureNotSupported(f"DISCARD {command.argument.upper()} is not supported")
            self.statements.clear()
            self.portals.clear()
            return "DISCARD ALL"
        # Notifications are never sent, so subscriptions have nothing to track.
        return command.verb

    def _deallocate(self, command: Command) -> str:
        if command.is_all:
            named = [name for name in self.statements if name]
            for name in named:
                del self.statements[name]
            return "DEALLOCATE ALL"
        if self.statements.pop(command.argument, None) is None:
            raise InvalidSqlStatementName(f'prepared statement "{command.argument}" does not exist')
        return "DEALLOCATE"

    def _close(self, command: Command) -> str:
        if command.is_all:
            self.portals.clear()
            return "CLOSE CURSOR ALL"
        if self.portals.pop(command.argument, None) is None:
            raise InvalidCursorName(f'cursor "{command.argument}" does not exist')
        return "CLOSE CURSOR"
