"""COPY options from the parsed statement, checked with Postgres' rules and messages
(src/backend/commands/copy.c, ProcessCopyOptions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlglot import exp

from sqlvec.errors import (
    FeatureNotSupported,
    InvalidParameterValue,
    SqlvecError,
    SyntaxError,
)

FORMATS = ("text", "csv", "binary")
_TRUE = frozenset({"true", "on", "1", "t", "yes", "y"})
_FALSE = frozenset({"false", "off", "0", "f", "no", "n"})
# What a text-format delimiter may not be: it would be read as part of an escape or a value.
_TEXT_DELIMITER_FORBIDDEN = "\\.abcdefghijklmnopqrstuvwxyz0123456789"
_UTF8_NAMES = frozenset({"utf8", "utf-8", "unicode"})


class InvalidColumnReference(SqlvecError):
    sqlstate = "42P10"


@dataclass(frozen=True)
class CopyOptions:
    format: str = "text"
    delimiter: str = "\t"
    null: str = "\\N"
    header: bool = False
    header_match: bool = False  # HEADER MATCH: the header line must name the columns
    quote: str = '"'
    escape: str = '"'
    force_quote: tuple[str, ...] = ()
    force_quote_all: bool = False
    force_not_null: tuple[str, ...] = ()
    force_null: tuple[str, ...] = ()

    @property
    def binary(self) -> bool:
        return self.format == "binary"

    @property
    def csv(self) -> bool:
        return self.format == "csv"

    def check_columns(self, columns: Sequence[str]) -> None:
        """FORCE_* lists may only name columns the COPY reads or writes."""
        for option, names in (
            ("FORCE_QUOTE", self.force_quote),
            ("FORCE_NOT_NULL", self.force_not_null),
            ("FORCE_NULL", self.force_null),
        ):
            for name in names:
                if name not in columns:
                    raise InvalidColumnReference(f'{option} column "{name}" not referenced by COPY')


def copy_options(params: Sequence[exp.Expr] | None, copy_from: bool) -> CopyOptions:
    """Options of a COPY statement (the CopyParameter list the sqlvec parser builds)."""
    given: dict[str, exp.Expr | None] = {}
    for param in params or ():
        name = param.name.lower()
        if name in given:
            raise SyntaxError("conflicting or redundant options")
        given[name] = param.args.get("expression")
    values: dict[str, object] = {}
    for name, value in given.items():
        values[name] = _option_value(name, value, copy_from)
    return _checked(values, copy_from)


def _option_value(name: str, value: exp.Expr | None, copy_from: bool) -> object:
    if name == "format":
        text = _string(name, value).lower()
        if text not in FORMATS:
            raise InvalidParameterValue(f'COPY format "{text}" not recognized')
        return text
    if name in ("delimiter", "null", "quote", "escape"):
        return _string(name, value)
    if name == "header":
        return _header(value, copy_from)
    if name == "freeze":
        return _boolean(name, value)
    if name in ("force_quote", "force_not_null", "force_null"):
        if name == "force_quote" and isinstance(value, exp.Star):
            return "*"
        if not isinstance(value, exp.Tuple):
            raise SyntaxError(f'argument to option "{name}" must be a list of column names')
        return tuple(item.name for item in value.expressions)
    if name == "encoding":
        encoding = _string(name, value)
        if encoding.lower() not in _UTF8_NAMES:
            raise FeatureNotSupported(
                f'COPY encoding "{encoding}" is not supported: sqlvec reads and writes UTF8 only'
            )
        return encoding
    if name == "default":
        raise FeatureNotSupported("COPY DEFAULT is not supported")
    if name == "oids":
        raise FeatureNotSupported("COPY with OIDS is not supported")
    raise SyntaxError(f'option "{name}" not recognized')


def _string(name: str, value: exp.Expr | None) -> str:
    if isinstance(value, exp.Literal | exp.Var):
        return str(value.this)
    raise SyntaxError(f"{name} requires a parameter")


def _boolean(name: str, value: exp.Expr | None) -> bool:
    if value is None:
        return True
    text = _string(name, value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidParameterValue(f"{name} requires a Boolean value")


def _header(value: exp.Expr | None, copy_from: bool) -> object:
    if value is not None and _string("header", value).lower() == "match":
        if not copy_from:
            raise FeatureNotSupported('cannot use "match" with HEADER in COPY TO')
        return "match"
    try:
        return _boolean("header", value)
    except InvalidParameterValue:
        raise InvalidParameterValue('header requires a Boolean value or "match"') from None


def _checked(values: dict[str, object], copy_from: bool) -> CopyOptions:
    fmt = str(values.get("format", "text"))
    binary, csv = fmt == "binary", fmt == "csv"
    for name in ("delimiter", "null"):
        if binary and name in values:
            raise SyntaxError(f"cannot specify {name.upper()} in BINARY mode")
    delimiter = str(values.get("delimiter", "," if csv else "\t"))
    null = str(values.get("null", "" if csv else "\\N"))
    if len(delimiter.encode()) != 1:
        raise FeatureNotSupported("COPY delimiter must be a single one-byte character")
    if delimiter in "\r\n":
        raise InvalidParameterValue("COPY delimiter cannot be newline or carriage return")
    if "\r" in null or "\n" in null:
        raise InvalidParameterValue(
            "COPY null representation cannot use newline or carriage return"
        )
    if not csv and not binary and delimiter in _TEXT_DELIMITER_FORBIDDEN:
        raise InvalidParameterValue(f'COPY delimiter cannot be "{delimiter}"')
    header = values.get("header", False)
    if binary and header:
        raise FeatureNotSupported("cannot specify HEADER in BINARY mode")
    quote = str(values.get("quote", '"'))
    escape = str(values.get("escape", quote))
    for name, text in (("quote", quote), ("escape", escape)):
        if name in values and not csv:
            raise FeatureNotSupported(f"COPY {name} available only in CSV mode")
        if csv and len(text.encode()) != 1:
            raise FeatureNotSupported(f"COPY {name} must be a single one-byte character")
    if csv and delimiter == quote:
        raise InvalidParameterValue("COPY delimiter and quote must be different")
    for name, label, direction in (
        ("force_quote", "force quote", "TO"),
        ("force_not_null", "force not null", "FROM"),
        ("force_null", "force null", "FROM"),
    ):
        if name in values:
            if not csv:
                raise FeatureNotSupported(f"COPY {label} available only in CSV mode")
            if copy_from != (direction == "FROM"):
                raise FeatureNotSupported(f"COPY {label} only available using COPY {direction}")
    if not binary and delimiter in null:
        raise InvalidParameterValue("COPY delimiter must not appear in the NULL specification")
    if csv and quote in null:
        raise InvalidParameterValue("CSV quote character must not appear in the NULL specification")
    force_quote = values.get("force_quote", ())
    return CopyOptions(
        format=fmt,
        delimiter=delimiter,
        null=null,
        header=bool(header),
        header_match=header == "match",
        quote=quote,
        escape=escape,
        force_quote=force_quote if isinstance(force_quote, tuple) else (),
        force_quote_all=force_quote == "*",
        force_not_null=_names(values.get("force_not_null")),
        force_null=_names(values.get("force_null")),
    )


def _names(value: object) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else ()
