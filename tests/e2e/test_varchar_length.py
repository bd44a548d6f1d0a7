"""varchar(n) over the wire: the length in the catalog (pg_attribute.atttypmod,
information_schema.columns, SQLAlchemy's inspector, psql's \\d), kept across a restart, and
enforced as Postgres does on INSERT, UPDATE and COPY (22001)."""

from __future__ import annotations

import shutil
import subprocess

import psycopg
import pytest

from sqlvec.testing import ServerProcess

TOO_LONG = "value too long for type character varying(5)"


def create(conn: psycopg.Connection, name: str) -> None:
    conn.execute(f"DROP TABLE IF EXISTS {name}")
    conn.execute(f"CREATE TABLE {name} (id BIGINT PRIMARY KEY, code VARCHAR(5), e vector(2))")


def catalog_view(conn: psycopg.Connection, name: str) -> tuple[list[tuple], list[tuple]]:
    attributes = conn.execute(
        "SELECT attname, atttypmod, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 ORDER BY attnum",
        (name,),
    ).fetchall()
    columns = conn.execute(
        "SELECT column_name, data_type, character_maximum_length, udt_name "
        "FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
        (name,),
    ).fetchall()
    return attributes, columns


def test_length_is_in_the_catalog_and_survives_a_restart(own_server: ServerProcess) -> None:
    expected = (
        [("id", -1, "bigint"), ("code", 9, "character varying(5)"), ("e", 2, "vector(2)")],
        [
            ("id", "bigint", None, "int8"),
            ("code", "character varying", 5, "varchar"),
            ("e", "USER-DEFINED", None, "vector"),
        ],
    )
    with psycopg.connect(own_server.dsn, autocommit=True) as conn:
        create(conn, "vc_restart")
        assert catalog_view(conn, "vc_restart") == expected
    own_server.stop()
    own_server.start()
    with psycopg.connect(own_server.dsn, autocommit=True) as conn:
        assert catalog_view(conn, "vc_restart") == expected
        with pytest.raises(psycopg.errors.StringDataRightTruncation):
            conn.execute("INSERT INTO vc_restart VALUES (1, 'abcdef', '[1,1]')")


def test_longer_values_are_rejected_on_insert_update_and_copy(conn: psycopg.Connection) -> None:
    create(conn, "vc_writes")
    conn.execute("INSERT INTO vc_writes VALUES (1, 'abcde', '[1,1]'), (2, 'ab   ', '[1,1]')")
    bad = [
        ("INSERT INTO vc_writes VALUES (3, 'abcdef', '[1,1]')", ()),
        ("INSERT INTO vc_writes VALUES (3, %s, '[1,1]')", ("ééééé!",)),  # characters, not bytes
        ("UPDATE vc_writes SET code = 'toolong' WHERE id = 1", ()),
        ("UPDATE vc_writes SET code = code || 'x' WHERE id = 1", ()),
    ]
    for sql, params in bad:
        with pytest.raises(psycopg.errors.StringDataRightTruncation) as caught:
            conn.execute(sql, params)
        assert caught.value.sqlstate == "22001"
        assert caught.value.diag.message_primary == TOO_LONG
    copy_sql = "COPY vc_writes (id, code, e) FROM STDIN"
    with (
        pytest.raises(psycopg.errors.StringDataRightTruncation) as copied,
        conn.cursor().copy(copy_sql) as copy,
    ):
        copy.write_row((4, "fine", "[1,1]"))
        copy.write_row((5, "abcdefgh", "[1,1]"))
    assert copied.value.diag.context is not None and "column code" in copied.value.diag.context
    # Extra trailing spaces are cut silently, and an explicit cast truncates, as in Postgres.
    conn.execute("INSERT INTO vc_writes VALUES (6, 'xyz      ', '[1,1]')")
    assert conn.execute("SELECT 'abcdef'::varchar(3)").fetchone() == ("abc",)
    assert conn.execute("SELECT code::varchar(2) FROM vc_writes WHERE id = 1").fetchone() == ("ab",)
    rows = conn.execute("SELECT id, code FROM vc_writes ORDER BY id").fetchall()
    assert rows == [(1, "abcde"), (2, "ab   "), (6, "xyz  ")]


def test_sqlalchemy_and_psql_show_the_length(server: ServerProcess) -> None:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    pytest.importorskip("pgvector.sqlalchemy")  # registers `vector` with SQLAlchemy
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        create(conn, "vc_clients")
    engine = sqlalchemy.create_engine(f"postgresql+psycopg://sqlvec@127.0.0.1:{server.port}/sqlvec")
    try:
        columns = {
            c["name"]: c["type"] for c in sqlalchemy.inspect(engine).get_columns("vc_clients")
        }
        assert isinstance(columns["code"], sqlalchemy.VARCHAR)
        assert columns["code"].length == 5
    finally:
        engine.dispose()
    binary = shutil.which("psql")
    if binary is None:
        pytest.fail("psql is not installed (make test installs postgresql-client)")
    described = subprocess.run(
        [
            binary,
            "-h",
            "127.0.0.1",
            "-p",
            str(server.port),
            "-U",
            "sqlvec",
            "-d",
            "sqlvec",
            "-c",
            r"\d vc_clients",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert described.returncode == 0, described.stderr
    assert "character varying(5)" in described.stdout
