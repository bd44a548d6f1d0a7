"""The psql binary runs a script against the server with ON_ERROR_STOP=1."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from sqlvec.testing import ServerProcess

SCRIPT = """
CREATE COLLECTION psql_docs (id BIGINT PRIMARY KEY, title TEXT, year INT, embedding VECTOR(3)) WITH (metric = 'l2');
INSERT INTO psql_docs (id, title, year, embedding) VALUES (1, 'a', 2001, '[1,0,0]'), (2, 'b', 2002, '[0,1,0]'), (3, 'c', 2003, '[0.5,0.5,0]');
SELECT id, title, embedding <-> '[1,0,0]' AS distance FROM psql_docs ORDER BY distance LIMIT 2;
SELECT count(*) FROM psql_docs;
SHOW COLLECTIONS;
DROP COLLECTION psql_docs;
"""


def psql(server: ServerProcess, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    binary = shutil.which("psql")
    if binary is None:
        pytest.fail("psql is not installed (make test installs postgresql-client)")
    command = [binary, "-X", "-h", "127.0.0.1", "-p", str(server.port), "-U", "sqlvec", "sqlvec"]
    return subprocess.run(
        command + list(args), input=stdin, capture_output=True, text=True, timeout=60
    )


def test_psql_script_with_on_error_stop(server: ServerProcess) -> None:
    result = psql(server, "-v", "ON_ERROR_STOP=1", "-A", "-t", "-F", "|", stdin=SCRIPT)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split()
    assert "1|a|0" in lines
    assert "3|c|0.7071067690849304" in lines or any(line.startswith("3|c|0.7071") for line in lines)
    assert "3" in lines  # count(*)
    assert "psql_docs" in lines


def test_psql_stops_on_error_and_reports_it(server: ServerProcess) -> None:
    result = psql(server, "-v", "ON_ERROR_STOP=1", stdin="SELECT * FROM nope;\nSELECT 1;\n")
    assert result.returncode == 3
    assert 'relation "nope" does not exist' in result.stderr


def test_psql_multi_statement_command_is_one_transaction(server: ServerProcess) -> None:
    setup = (
        "DROP TABLE IF EXISTS psql_tx; CREATE TABLE psql_tx (id BIGINT PRIMARY KEY, e vector(2))"
    )
    assert psql(server, "-c", setup).returncode == 0
    # One simple query: the failing second INSERT undoes the first.
    failed = psql(
        server,
        "-c",
        "INSERT INTO psql_tx VALUES (1, '[1,1]'); INSERT INTO psql_tx VALUES (1, '[2,2]')",
    )
    assert failed.returncode != 0 and "duplicate key" in failed.stderr
    explicit = "BEGIN; INSERT INTO psql_tx VALUES (2, '[1,1]'); ROLLBACK; INSERT INTO psql_tx VALUES (3, '[1,1]')"
    assert psql(server, "-c", explicit).returncode == 0
    script = "BEGIN;\nINSERT INTO psql_tx VALUES (4, '[1,1]');\nSAVEPOINT s;\nINSERT INTO psql_tx VALUES (5, '[1,1]');\nROLLBACK TO s;\nCOMMIT;\n"
    assert psql(server, "-v", "ON_ERROR_STOP=1", stdin=script).returncode == 0
    result = psql(server, "-A", "-t", "-c", "SELECT id FROM psql_tx ORDER BY id")
    assert result.stdout.split() == ["3", "4"]
