"""SQL logic tests (tests/sql/*.slt) run over the wire against a real server.

Format, after sqllogictest / DuckDB:

    statement ok | statement error <SQLSTATE>
    <sql, until a blank line>

    query <types> [rowsort]        types: I integer, T text, R real (4 decimals), V vector
    <sql>
    ----
    <one line per row, values separated by whitespace; NULL, (empty) for '', vectors as [1,2]>

Each file runs on a fresh connection; collections a file creates are its own to name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest

from sqlvec.testing import ServerProcess
from sqlvec.vectors import format_vector

SQL_DIR = Path(__file__).parent / "sql"


@dataclass
class Record:
    kind: str  # "statement" or "query"
    sql: str
    line: int
    expect_error: str | None = None
    types: str = ""
    rowsort: bool = False
    expected: list[str] | None = None


def parse_records(text: str) -> list[Record]:
    records: list[Record] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        header = lines[i].strip()
        if not header or header.startswith("#"):
            i += 1
            continue
        start = i + 1
        words = header.split()
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].strip() and lines[i].strip() != "----":
            body.append(lines[i])
            i += 1
        record = Record(words[0], "\n".join(body), start)
        if words[0] == "statement":
            record.expect_error = words[2] if words[1] == "error" else None
        elif words[0] == "query":
            record.types = words[1]
            record.rowsort = "rowsort" in words[2:]
            record.expected = []
            if i < len(lines) and lines[i].strip() == "----":
                i += 1
                while i < len(lines) and lines[i].strip():
                    record.expected.append(" ".join(lines[i].split()))
                    i += 1
        else:
            raise ValueError(f"line {start}: unknown record {header!r}")
        records.append(record)
    return records


def render(value: Any, kind: str) -> str:
    if value is None:
        return "NULL"
    if value == "":
        return "(empty)"
    if kind == "R":
        return f"{float(value):.4f}"
    if kind == "V" and isinstance(value, str):
        return value.replace(" ", "")
    if isinstance(value, np.ndarray):
        return format_vector(value)
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def run_record(conn: psycopg.Connection, record: Record, where: str) -> None:
    if record.kind == "statement":
        if record.expect_error is None:
            conn.execute(record.sql)
            return
        with pytest.raises(psycopg.Error) as caught:
            conn.execute(record.sql)
        assert caught.value.sqlstate == record.expect_error, f"{where}: {caught.value}"
        return
    rows = conn.execute(record.sql).fetchall()
    actual = [
        " ".join(render(v, k) for v, k in zip(row, record.types, strict=True)) for row in rows
    ]
    expected = list(record.expected or [])
    if record.rowsort:
        actual, expected = sorted(actual), sorted(expected)
    assert actual == expected, f"{where}: {record.sql}"


@pytest.mark.parametrize("path", sorted(SQL_DIR.glob("**/*.slt")), ids=lambda p: p.stem)
def test_sql_logic_file(server: ServerProcess, path: Path) -> None:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        for record in parse_records(path.read_text()):
            run_record(conn, record, f"{path.name}:{record.line}")
