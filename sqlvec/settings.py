"""Session settings (SET / SHOW / RESET) and the ParameterStatus values a client is sent."""

from __future__ import annotations

from sqlvec import POSTGRES_VERSION, __version__
from sqlvec.errors import CantChangeRuntimeParam, InvalidParameterValue, UndefinedObject
from sqlvec.setting_units import format_milliseconds, parse_milliseconds

SERVER_VERSION = f"{POSTGRES_VERSION} (sqlvec {__version__})"

# Defaults as PostgreSQL reports them; the GUC_REPORT ones are sent as ParameterStatus.
DEFAULTS: dict[str, str] = {
    "application_name": "",
    "client_encoding": "UTF8",
    "datestyle": "ISO, MDY",
    "default_transaction_read_only": "off",
    "in_hot_standby": "off",
    "integer_datetimes": "on",
    "intervalstyle": "postgres",
    "is_superuser": "on",
    "server_encoding": "UTF8",
    "server_version": SERVER_VERSION,
    "session_authorization": "sqlvec",
    "standard_conforming_strings": "on",
    "timezone": "UTC",
    "search_path": '"$user", public',
    "transaction_isolation": "read committed",
    "transaction_read_only": "off",
    "extra_float_digits": "1",
    "statement_timeout": "0",
    "max_identifier_length": "63",
    "server_version_num": "",  # filled in below from POSTGRES_VERSION
    "jit": "off",  # SQLAlchemy and others probe it
    # Vector search parameters (pgvector's names are aliases, see _ALIASES).
    "nprobe": "16",
    "ef_search": "64",
    "search_length": "40",
    "explain_recall": "off",
}

_MAJOR, _MINOR = (int(part) for part in POSTGRES_VERSION.split(".")[:2])
DEFAULTS["server_version_num"] = f"{_MAJOR}{_MINOR:04d}"  # 16.4 -> 160004

# Settings a client may give as StartupMessage parameters (asyncpg's server_settings).
STARTUP_SETTINGS = (
    "application_name",
    "client_encoding",
    "datestyle",
    "timezone",
    "statement_timeout",
)

# Integer settings and their valid ranges, checked on SET (22023 outside them).
INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "nprobe": (1, 999999),
    "ef_search": (1, 32768),
    "search_length": (10, 300),
    "extra_float_digits": (-15, 3),
}
# Time settings in milliseconds and their ranges; SET takes Postgres' units (`2s`, `1min`).
MILLISECOND_RANGES: dict[str, tuple[int, int]] = {
    "statement_timeout": (0, 2**31 - 1),
}

# Postgres' spelling of the names it reports (ParameterStatus is case-sensitive for clients).
REPORTED = {
    "application_name": "application_name",
    "client_encoding": "client_encoding",
    "datestyle": "DateStyle",
    "default_transaction_read_only": "default_transaction_read_only",
    "in_hot_standby": "in_hot_standby",
    "integer_datetimes": "integer_datetimes",
    "intervalstyle": "IntervalStyle",
    "is_superuser": "is_superuser",
    "server_encoding": "server_encoding",
    "server_version": "server_version",
    "session_authorization": "session_authorization",
    "standard_conforming_strings": "standard_conforming_strings",
    "timezone": "TimeZone",
    "search_path": "search_path",
}
READ_ONLY = {
    "server_version",
    "server_version_num",
    "max_identifier_length",
    "server_encoding",
    "integer_datetimes",
    "is_superuser",
    "in_hot_standby",
}
_ALIASES = {
    "time zone": "timezone",
    "transaction isolation level": "transaction_isolation",
    "ivfflat.probes": "nprobe",
    "hnsw.ef_search": "ef_search",
}


def canonical(name: str) -> str:
    lowered = name.lower().strip()
    return _ALIASES.get(lowered, lowered)


def normalize_value(name: str, value: str) -> str:
    """Values clients send in a form Postgres reports differently (asyncpg's `'utf-8'`)."""
    if name == "client_encoding" and value.strip("'\"").replace("-", "").lower() == "utf8":
        return "UTF8"
    return value


class Settings:
    def __init__(self) -> None:
        self._values = dict(DEFAULTS)
        self._explicit: set[str] = set()  # set by the session, not defaults
        self.version = 0  # bumped by every change: what is derived from settings is cached by it

    def get(self, name: str) -> str:
        key = canonical(name)
        if key not in self._values:
            raise UndefinedObject(f'unrecognized configuration parameter "{name}"')
        return self._values[key]

    def set(self, name: str, value: str) -> dict[str, str]:
        """Set a value; returns the ParameterStatus messages the change calls for."""
        key = canonical(name)
        if key in READ_ONLY:
            raise CantChangeRuntimeParam(f'parameter "{name}" cannot be changed')
        value = normalize_value(key, value)
        if key in INTEGER_RANGES:
            value = str(_checked_integer(name, value, *INTEGER_RANGES[key]))
        if key in MILLISECOND_RANGES:
            value = format_milliseconds(parse_milliseconds(name, value, *MILLISECOND_RANGES[key]))
        self._values[key] = value
        self._explicit.add(key)
        self.version += 1
        return {REPORTED[key]: value} if key in REPORTED else {}

    def reset(self, name: str) -> dict[str, str]:
        key = canonical(name)
        if key == "all":
            changed = {}
            for setting in list(self._values):
                if setting not in READ_ONLY and setting in DEFAULTS:
                    changed.update(self.set(setting, DEFAULTS[setting]))
            self._explicit.clear()
            self.version += 1
            return changed
        changed = self.set(key, DEFAULTS.get(key, ""))
        self._explicit.discard(key)
        self.version += 1
        return changed

    def reported(self) -> dict[str, str]:
        return {REPORTED[key]: self._values[key] for key in REPORTED}

    def all(self) -> list[tuple[str, str]]:
        return sorted(self._values.items())

    def milliseconds(self, name: str) -> int:
        """A time setting's value in milliseconds (`statement_timeout`)."""
        key = canonical(name)
        return parse_milliseconds(name, self._values[key], *MILLISECOND_RANGES[key])

    def explicit_integer(self, name: str) -> int | None:
        """The value when the session set it (SET), else None: the engine picks its default."""
        key = canonical(name)
        return int(self._values[key]) if key in self._explicit else None


def _checked_integer(name: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value.strip().strip("'"))
    except ValueError:
        raise InvalidParameterValue(f'invalid value for parameter "{name}": "{value}"') from None
    if not low <= number <= high:
        raise InvalidParameterValue(
            f'{number} is outside the valid range for parameter "{name}" ({low} .. {high})'
        )
    return number
