"""COPY options: defaults per format and Postgres' checks, from parsed statements."""

from __future__ import annotations

import pytest
from sqlglot import exp

from sqlvec.copy.options import CopyOptions, copy_options
from sqlvec.errors import SqlvecError
from sqlvec.parser import parse_one


def options_of(sql: str) -> CopyOptions:
    node = parse_one(sql)
    assert isinstance(node, exp.Copy)
    return copy_options(node.args.get("params"), bool(node.args["kind"]))


def test_defaults_per_format() -> None:
    text = options_of("COPY t FROM STDIN")
    assert (text.format, text.delimiter, text.null, text.header) == ("text", "\t", "\\N", False)
    csv = options_of("COPY t FROM STDIN WITH CSV")
    assert (csv.delimiter, csv.null, csv.quote, csv.escape) == (",", "", '"', '"')
    assert options_of("COPY t FROM STDIN (FORMAT csv, QUOTE '''')").escape == "'"
    assert options_of("COPY t TO STDOUT WITH BINARY").binary


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("COPY t FROM STDIN (HEADER)", {"header": True}),
        ("COPY t FROM STDIN (HEADER off)", {"header": False}),
        ("COPY t FROM STDIN (HEADER 1)", {"header": True}),
        ("COPY t FROM STDIN (HEADER 'match')", {"header": True, "header_match": True}),
        (
            "COPY t FROM STDIN (FORMAT 'CSV', DELIMITER ';', NULL 'NA')",
            {"format": "csv", "delimiter": ";", "null": "NA"},
        ),
        ("COPY t TO STDOUT (FORMAT csv, FORCE_QUOTE *)", {"force_quote_all": True}),
        ("COPY t TO STDOUT CSV FORCE QUOTE a, b", {"force_quote": ("a", "b")}),
        (
            "COPY t FROM STDIN (FORMAT csv, FORCE_NULL (a), FORCE_NOT_NULL (b))",
            {"force_null": ("a",), "force_not_null": ("b",)},
        ),
        ("COPY t FROM STDIN (ENCODING 'utf-8', FREEZE true)", {}),
    ],
)
def test_options(sql: str, expected: dict[str, object]) -> None:
    options = options_of(sql)
    for name, value in expected.items():
        assert getattr(options, name) == value


@pytest.mark.parametrize(
    ("sql", "sqlstate", "message"),
    [
        ("COPY t FROM STDIN (FORMAT xml)", "22023", 'COPY format "xml" not recognized'),
        ("COPY t FROM STDIN (FORMAT csv, FORMAT csv)", "42601", "conflicting or redundant options"),
        ("COPY t FROM STDIN (COLOUR red)", "42601", 'option "colour" not recognized'),
        (
            "COPY t FROM STDIN (FORMAT binary, DELIMITER ',')",
            "42601",
            "cannot specify DELIMITER in BINARY mode",
        ),
        (
            "COPY t FROM STDIN (FORMAT binary, NULL '')",
            "42601",
            "cannot specify NULL in BINARY mode",
        ),
        (
            "COPY t FROM STDIN (FORMAT binary, HEADER)",
            "0A000",
            "cannot specify HEADER in BINARY mode",
        ),
        (
            "COPY t FROM STDIN (DELIMITER '::')",
            "0A000",
            "COPY delimiter must be a single one-byte character",
        ),
        (
            "COPY t FROM STDIN (DELIMITER 'é')",
            "0A000",
            "COPY delimiter must be a single one-byte character",
        ),
        (
            "COPY t FROM STDIN (DELIMITER E'\\n')",
            "22023",
            "COPY delimiter cannot be newline or carriage return",
        ),
        ("COPY t FROM STDIN (DELIMITER 'a')", "22023", 'COPY delimiter cannot be "a"'),
        ("COPY t FROM STDIN (DELIMITER '\\')", "22023", 'COPY delimiter cannot be "\\"'),
        (
            "COPY t FROM STDIN (NULL E'a\\nb')",
            "22023",
            "COPY null representation cannot use newline or carriage return",
        ),
        (
            "COPY t FROM STDIN (DELIMITER ',', NULL 'a,b')",
            "22023",
            "COPY delimiter must not appear in the NULL specification",
        ),
        ("COPY t FROM STDIN (QUOTE '\"')", "0A000", "COPY quote available only in CSV mode"),
        ("COPY t FROM STDIN (ESCAPE '\\')", "0A000", "COPY escape available only in CSV mode"),
        (
            "COPY t FROM STDIN (FORMAT csv, QUOTE '')",
            "0A000",
            "COPY quote must be a single one-byte character",
        ),
        (
            "COPY t FROM STDIN (FORMAT csv, DELIMITER '\"')",
            "22023",
            "COPY delimiter and quote must be different",
        ),
        (
            "COPY t FROM STDIN (FORMAT csv, NULL '\"x\"')",
            "22023",
            "CSV quote character must not appear in the NULL specification",
        ),
        (
            "COPY t FROM STDIN (FORMAT csv, FORCE_QUOTE *)",
            "0A000",
            "COPY force quote only available using COPY TO",
        ),
        (
            "COPY t TO STDOUT (FORCE_QUOTE *)",
            "0A000",
            "COPY force quote available only in CSV mode",
        ),
        (
            "COPY t TO STDOUT (FORMAT csv, FORCE_NULL (a))",
            "0A000",
            "COPY force null only available using COPY FROM",
        ),
        (
            "COPY t FROM STDIN (FORMAT csv, FORCE_NOT_NULL a)",
            "42601",
            'argument to option "force_not_null" must be a list of column names',
        ),
        ("COPY t FROM STDIN (HEADER maybe)", "22023", 'header requires a Boolean value or "match"'),
        ("COPY t TO STDOUT (HEADER match)", "0A000", 'cannot use "match" with HEADER in COPY TO'),
        ("COPY t FROM STDIN (FREEZE perhaps)", "22023", "freeze requires a Boolean value"),
        (
            "COPY t FROM STDIN (ENCODING 'LATIN1')",
            "0A000",
            'COPY encoding "LATIN1" is not supported: sqlvec reads and writes UTF8 only',
        ),
        ("COPY t FROM STDIN (DEFAULT 'x')", "0A000", "COPY DEFAULT is not supported"),
        ("COPY t FROM STDIN (DELIMITER)", "42601", "delimiter requires a parameter"),
    ],
)
def test_option_errors(sql: str, sqlstate: str, message: str) -> None:
    with pytest.raises(SqlvecError) as info:
        options_of(sql)
    assert (info.value.sqlstate, info.value.message) == (sqlstate, message)


def test_force_columns_must_be_copied() -> None:
    options = options_of("COPY t FROM STDIN (FORMAT csv, FORCE_NULL (b))")
    options.check_columns(["a", "b"])
    with pytest.raises(SqlvecError) as info:
        options.check_columns(["a"])
    assert (info.value.sqlstate, info.value.message) == (
        "42P10",
        'FORCE_NULL column "b" not referenced by COPY',
    )
